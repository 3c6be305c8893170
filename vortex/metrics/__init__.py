"""Prometheus metrics: ``Metrics`` (``vortex.metrics.registry``) and the text it renders."""

from prometheus_client import CONTENT_TYPE_LATEST

from vortex.metrics.registry import Metrics, PoolStatsLike, Snapshot

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "PoolStatsLike", "Snapshot"]
