"""Helpers for the raft client tests: a recording listener and a counter state machine."""

from __future__ import annotations

import asyncio
import struct

from raft.types import CommittedBatch, LeaderAndEpoch


def run(coro):
    return asyncio.run(coro)


class Recorder:
    """Records every callback, in order."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.batches: list[CommittedBatch] = []
        self.snapshots: list = []
        self.leaders: list[LeaderAndEpoch] = []

    def handle_commit(self, batch: CommittedBatch) -> None:
        self.batches.append(batch)
        self.events.append(("commit", batch.base_offset, batch.last_offset))

    def handle_load_snapshot(self, snapshot) -> None:
        self.snapshots.append((snapshot.snapshot_id, list(snapshot.records())))
        self.events.append(("snapshot", snapshot.snapshot_id.offset))

    def handle_leader_change(self, leader: LeaderAndEpoch) -> None:
        self.leaders.append(leader)
        self.events.append(("leader", leader.leader_id, leader.epoch))

    @property
    def values(self) -> list[bytes]:
        return [v for b in self.batches for v in b.records]


class Counter:
    """A state machine summing 8-byte integers; its snapshot is the sum so far."""

    def __init__(self) -> None:
        self.total = 0
        self.next_offset = 0
        self.applied: list[int] = []

    def handle_commit(self, batch: CommittedBatch) -> None:
        assert batch.base_offset >= self.next_offset
        for v in batch.records:
            n = struct.unpack(">q", v)[0]
            self.total += n
            self.applied.append(n)
        self.next_offset = batch.last_offset + 1

    def handle_load_snapshot(self, snapshot) -> None:
        [v] = list(snapshot.records())
        self.total = struct.unpack(">q", v)[0]
        self.next_offset = snapshot.snapshot_id.offset

    def handle_leader_change(self, leader) -> None:
        pass


def num(n: int) -> bytes:
    return struct.pack(">q", n)
