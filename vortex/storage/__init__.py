from vortex.storage.base import FunctionRecord, FunctionStore, sha256_hex

__all__ = ["FunctionRecord", "FunctionStore", "sha256_hex"]
