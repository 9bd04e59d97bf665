"""The group coordinator: classic and KIP-848 consumer groups and committed offsets, as the
sans-I/O state machine of each `__consumer_offsets` partition."""

from pybroker.coordinator.partitioner import java_string_hash, partition_for
from pybroker.groups.shard import GroupCoordinatorShard

__all__ = ["GroupCoordinatorShard", "java_string_hash", "partition_for"]
