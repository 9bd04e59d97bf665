"""Partitions this broker hosts: leadership, high watermark, and waits that appends wake.

A Partition wraps one storage.Log with what the metadata image says about it (replicas, ISR,
leader, leader epoch). As leader it tracks each follower's fetch position, and the high
watermark is the lowest log end offset in the ISR; with a single replica that is the leader's
own log end offset. Long-poll fetches and acks=all produces wait on futures the partition
resolves when its log end offset or high watermark moves: there are no timers in the loop.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from protocol.errors import ErrorCode
from protocol.records import LAST_OFFSET_DELTA, iter_batch_positions
from storage import Log

log = logging.getLogger("pybroker.partitions")

_I64 = struct.Struct(">q")
_I32 = struct.Struct(">i")


class PartitionError(Exception):
    """An error with a Kafka error code, raised to a handler for one partition."""

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or ErrorCode(code).name)
        self.code = int(code)


@dataclass(slots=True)
class ReplicaState:
    """What the leader knows of one follower."""

    log_end_offset: int = -1
    last_caught_up_ms: int = 0
    last_fetch_ms: int = 0


class Partition:
    """One partition replica hosted on this broker."""

    def __init__(
        self, topic: str, topic_id: uuid.UUID, index: int, log: Log, local_id: int,
        clock_ms: Callable[[], int],
    ) -> None:
        self.topic = topic
        self.topic_id = topic_id
        self.index = index
        self.log = log
        self.local_id = local_id
        self.clock_ms = clock_ms
        self.leader_id = -1
        self.leader_epoch = -1
        self.partition_epoch = -1
        self.replicas: tuple[int, ...] = ()
        self.isr: tuple[int, ...] = ()
        self.followers: dict[int, ReplicaState] = {}
        self._waiters: set[asyncio.Future] = set()
        self.deleted = False

    def __repr__(self) -> str:
        return f"Partition({self.topic}-{self.index}, leader={self.leader_id}, epoch={self.leader_epoch})"

    @property
    def is_leader(self) -> bool:
        return self.leader_id == self.local_id

    @property
    def high_watermark(self) -> int:
        return self.log.high_watermark

    @property
    def log_end_offset(self) -> int:
        return self.log.log_end_offset

    # --- metadata ---------------------------------------------------------------------------
    def update_registration(
        self, leader: int, leader_epoch: int, partition_epoch: int, replicas: Iterable[int], isr: Iterable[int]
    ) -> None:
        """Apply the partition's registration from a new metadata image."""
        was_leader = self.is_leader
        self.leader_id = leader
        self.leader_epoch = leader_epoch
        self.partition_epoch = partition_epoch
        self.replicas = tuple(replicas)
        self.isr = tuple(isr)
        if self.is_leader:
            now = self.clock_ms()
            self.followers = {
                r: self.followers.get(r) or ReplicaState(last_caught_up_ms=now)
                for r in self.replicas if r != self.local_id
            }
            if not was_leader:
                log.info("%s-%d: leader at epoch %d", self.topic, self.index, leader_epoch)
            self.maybe_advance_high_watermark()
        else:
            self.followers = {}
        self.wake()

    # --- waiting -----------------------------------------------------------------------------
    def add_waiter(self, fut: asyncio.Future) -> None:
        self._waiters.add(fut)

    def remove_waiter(self, fut: asyncio.Future) -> None:
        self._waiters.discard(fut)

    def wake(self) -> None:
        """Resolve every waiting fetch or produce: the log end offset or high watermark moved."""
        if self._waiters:
            waiters = self._waiters
            self._waiters = set()
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)

    # --- leader side ---------------------------------------------------------------------------
    def check_leader(self, current_leader_epoch: int = -1) -> None:
        """Raise the error Kafka answers when this replica cannot serve as leader."""
        if self.deleted:
            raise PartitionError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        if not self.is_leader:
            raise PartitionError(ErrorCode.NOT_LEADER_OR_FOLLOWER)
        if current_leader_epoch >= 0:
            if current_leader_epoch < self.leader_epoch:
                raise PartitionError(ErrorCode.FENCED_LEADER_EPOCH)
            if current_leader_epoch > self.leader_epoch:
                raise PartitionError(ErrorCode.UNKNOWN_LEADER_EPOCH)

    def maybe_advance_high_watermark(self) -> bool:
        """HW = the lowest log end offset among the in-sync replicas (the leader included)."""
        hw = self.log.log_end_offset
        for r in self.isr:
            if r == self.local_id:
                continue
            state = self.followers.get(r)
            # A follower in the ISR that has not fetched yet holds the high watermark where it
            # is: acknowledging past it could lose acks=all records if this leader failed.
            hw = min(hw, state.log_end_offset if state is not None and state.log_end_offset >= 0
                     else self.log.high_watermark)
        if hw > self.log.high_watermark:
            self.log.high_watermark = hw
            return True
        return False

    def last_stable_offset(self) -> int:
        """The first offset of a transaction still open (or whose marker is not yet
        replicated), or the high watermark: read_committed consumers never read past it."""
        return self.log.last_stable_offset

    def aborted_transactions(self, start: int, end: int, records: Any = None) -> list[Any]:
        """Aborted transactions overlapping [start, end) for read_committed fetches, from the
        segments' aborted-transaction indexes, as (producer_id, first_offset) structs. With the
        fetched `records`, the upper bound is the end of their last batch (Kafka's), found only
        when some transaction was aborted at all."""
        found = self.log.collect_aborted_transactions(start, end)
        if not found:
            return []
        if records is not None:
            upper = _end_offset(records, end)
            found = [t for t in found if t.first_offset < upper]
        from protocol.messages import FetchResponse

        make = FetchResponse.AbortedTransaction
        return [make(producer_id=t.producer_id, first_offset=t.first_offset) for t in found]

    def in_sync_count(self) -> int:
        return len(self.isr)

    def after_append(self) -> None:
        self.maybe_advance_high_watermark()
        self.wake()


def _end_offset(records: Any, limit: int) -> int:
    """The offset after the last whole batch of `records`, at most `limit`."""
    last = -1
    for pos, _size in iter_batch_positions(records):
        last = pos
    if last < 0:
        return limit
    base, = _I64.unpack_from(records, last)
    delta, = _I32.unpack_from(records, last + LAST_OFFSET_DELTA)
    return min(limit, base + delta + 1)
