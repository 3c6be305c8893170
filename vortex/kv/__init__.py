"""Per-function KV storage: byte values with optional metadata under text keys, one namespace
per function.

``KV`` (``vortex.kv.service``) checks the documented limits and is what the server calls; a
``KVStore`` backend keeps the data: SQLite in the data directory by default, Redis when Redis is
configured (chosen in ``vortex.backends.make_kv``). docs/kv.md has the JavaScript API and codes.
"""

from vortex.kv.base import KVEntry, KVKey, KVPage, KVStore
from vortex.kv.service import KV, KVLimits, KVListResult

__all__ = ["KV", "KVEntry", "KVKey", "KVLimits", "KVListResult", "KVPage", "KVStore"]
