"""Exceptions of the raft package."""

from __future__ import annotations


class RaftError(Exception):
    """Base of every raft exception."""


class NotLeaderError(RaftError):
    """An append to a replica that is not the leader of the current epoch."""

    def __init__(self, leader_id: int | None, epoch: int) -> None:
        who = "unknown" if leader_id is None else str(leader_id)
        super().__init__(f"not the leader of epoch {epoch} (the leader is {who})")
        self.leader_id = leader_id
        self.epoch = epoch


class RaftClosedError(RaftError):
    """The raft client has been closed."""


class CorruptQuorumStateError(RaftError):
    """A quorum-state file that cannot be read."""


class CorruptSnapshotError(RaftError):
    """A snapshot file that is truncated, fails its CRC, or lacks its header or footer."""


class InvalidSnapshotIdError(RaftError):
    """A snapshot requested at an offset that is not committed or not in the log."""
