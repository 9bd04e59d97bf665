"""Small value types shared by the raft core, log, snapshots and driver."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True, order=True)
class OffsetAndEpoch:
    """A log position: an (exclusive end) offset and the epoch of the record before it."""

    offset: int
    epoch: int


@dataclass(frozen=True, slots=True)
class LeaderAndEpoch:
    """Who leads which epoch; leader_id None while no leader is known."""

    leader_id: int | None
    epoch: int

    def is_leader(self, node_id: int) -> bool:
        return self.leader_id == node_id


@dataclass(frozen=True, slots=True)
class CommittedBatch:
    """One committed batch of the log as listeners see it.

    `records` are the values of the batch's records (metadata record frames). A control batch
    (LeaderChange and the like) has no records; its control records are in `control_records`
    as (control type, value) pairs. Listeners still see it so that their offset advances.
    """

    base_offset: int
    last_offset: int
    epoch: int
    records: list[bytes]
    append_time_ms: int
    size_in_bytes: int = 0
    control_records: tuple[tuple[int, bytes | None], ...] = field(default=())

    @property
    def is_control(self) -> bool:
        return bool(self.control_records) and not self.records


class SnapshotSource(Protocol):
    """What handle_load_snapshot receives: see raft.snapshot.SnapshotReader."""

    @property
    def snapshot_id(self) -> OffsetAndEpoch: ...

    @property
    def last_contained_log_time_ms(self) -> int: ...

    def records(self): ...


class RaftListener(Protocol):
    """A state machine fed by the raft client (Kafka's RaftClient.Listener).

    Calls come on the event loop, in log order, each committed batch exactly once per
    listener registration: a snapshot first when the listener starts below the log start
    or from scratch while a snapshot exists, then every committed batch after it.
    handle_leader_change fires once the listener has read every batch before the new epoch
    began, so a new leader's state machine has seen all committed state before it writes.
    """

    def handle_commit(self, batch: CommittedBatch) -> None: ...

    def handle_load_snapshot(self, snapshot: SnapshotSource) -> None: ...

    def handle_leader_change(self, leader: LeaderAndEpoch) -> None: ...
