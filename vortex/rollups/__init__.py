"""Per-function charts: runs, errors and wall/CPU time quantiles per minute (``vortex.rollups``)."""

from vortex.rollups.base import Bucket, RollupStore
from vortex.rollups.recorder import RollupRecorder
from vortex.rollups.series import WINDOWS, Window

__all__ = ["WINDOWS", "Bucket", "RollupRecorder", "RollupStore", "Window"]
