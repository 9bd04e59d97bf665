"""Coordinators kept in internal topics: the shard interface and the runtime that drives it."""

from pybroker.coordinator.partitioner import java_string_hash, partition_for
from pybroker.coordinator.runtime import CoordinatorError, CoordinatorRuntime
from pybroker.coordinator.shard import CoordinatorRecord, CoordinatorShard, Effects, TxnMarker

__all__ = [
    "CoordinatorError",
    "CoordinatorRecord",
    "CoordinatorRuntime",
    "CoordinatorShard",
    "Effects",
    "TxnMarker",
    "java_string_hash",
    "partition_for",
]
