"""KRaft-style consensus for the metadata log: a sans-I/O core plus a thin driver.

`RaftClient` is what the rest of the broker uses (append, listeners, leader and epoch, high
watermark, snapshots); `RaftCore` is the algorithm; `RaftLog` the log on storage.Log.
"""

from raft.core import RaftConfig, RaftCore, Role
from raft.driver import RaftClient, decode_leader_change, leader_change_value
from raft.errors import (
    CorruptQuorumStateError, CorruptSnapshotError, InvalidSnapshotIdError, NotLeaderError, RaftClosedError,
    RaftError,
)
from raft.log import METADATA_LOG_DIRNAME, METADATA_TOPIC, RaftLog
from raft.quorum_state import ElectionState, QuorumStateStore
from raft.snapshot import SnapshotReader, SnapshotWriter, list_snapshots, snapshot_filename
from raft.types import CommittedBatch, LeaderAndEpoch, OffsetAndEpoch, RaftListener

__all__ = [
    "METADATA_LOG_DIRNAME",
    "METADATA_TOPIC",
    "CommittedBatch",
    "CorruptQuorumStateError",
    "CorruptSnapshotError",
    "ElectionState",
    "InvalidSnapshotIdError",
    "LeaderAndEpoch",
    "NotLeaderError",
    "OffsetAndEpoch",
    "QuorumStateStore",
    "RaftClient",
    "RaftClosedError",
    "RaftConfig",
    "RaftCore",
    "RaftError",
    "RaftListener",
    "RaftLog",
    "Role",
    "SnapshotReader",
    "SnapshotWriter",
    "decode_leader_change",
    "leader_change_value",
    "list_snapshots",
    "snapshot_filename",
]
