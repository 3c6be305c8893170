from vortex.history.base import RunEntry, RunHistory

__all__ = ["RunEntry", "RunHistory"]
