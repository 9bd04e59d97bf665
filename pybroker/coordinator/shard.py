"""What a coordinator shard is: the sans-I/O state machine of one partition of an internal
topic (`__consumer_offsets`, `__transaction_state`), and the effects its operations return.

A shard's state changes only by replaying records, whether loaded from its partition at start
or just written by one of its own operations: the log is the single source of truth. An
operation (a request, a timer firing) inspects the state and returns Effects: records to
append, responses, timers. The runtime appends the records as one batch, replays them into the
shard, and releases the responses once the batch is committed (the partition's high watermark
passes it). If the append fails, no record is replayed and every response of that operation
becomes the failure instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable, Protocol


@dataclass(frozen=True, slots=True)
class CoordinatorRecord:
    """One record of an internal topic: key and value bytes; value None is a tombstone."""

    key: bytes
    value: bytes | None


@dataclass(frozen=True, slots=True)
class TxnMarker:
    """A transaction control record seen while replaying (COMMIT or ABORT of producer_id)."""

    producer_id: int
    producer_epoch: int
    commit: bool


@dataclass(slots=True)
class Effects:
    """What one operation on a shard asks the runtime to do.

    - `records` are appended to the shard's partition as one batch, then replayed.
      `producer_id`/`producer_epoch` >= 0 make the batch transactional (TxnOffsetCommit).
    - `responses` are (token, response) pairs: the runtime hands each response to the request
      that registered `token`, after `records` are committed. An operation may complete requests
      other than its own (a join completing every waiting member's JoinGroup).
    - `timers` set (key, deadline_ms) or cancel (key, None) timers; when one fires the runtime
      calls `shard.on_timer(key, now_ms)`. Setting an existing key replaces its deadline.
    - `actions` are coordinator-specific work the runtime hands to its owner once `records`
      are committed (the transaction coordinator's "write these markers").
    """

    records: list[CoordinatorRecord] = field(default_factory=list)
    responses: list[tuple[Any, Any]] = field(default_factory=list)
    timers: list[tuple[Hashable, int | None]] = field(default_factory=list)
    actions: list[Any] = field(default_factory=list)
    producer_id: int = -1
    producer_epoch: int = -1

    def respond(self, token: Any, response: Any) -> "Effects":
        self.responses.append((token, response))
        return self

    def merge(self, other: "Effects") -> "Effects":
        if other.producer_id >= 0 or self.producer_id >= 0:
            assert not (other.records and self.records and other.producer_id != self.producer_id), \
                "one operation writes one batch"
            if other.producer_id >= 0:
                self.producer_id, self.producer_epoch = other.producer_id, other.producer_epoch
        self.records.extend(other.records)
        self.responses.extend(other.responses)
        self.timers.extend(other.timers)
        self.actions.extend(other.actions)
        return self


class CoordinatorShard(Protocol):
    """The state machine of one internal-topic partition."""

    def replay(self, offset: int, record: CoordinatorRecord | TxnMarker, producer_id: int, producer_epoch: int) -> None:
        """Apply one record of the partition (data or transaction marker), in log order."""

    def on_loaded(self, now_ms: int) -> Effects:
        """Loading finished: re-arm timers (session timeouts) from the replayed state."""

    def on_timer(self, key: Hashable, now_ms: int) -> Effects:
        """A timer set through Effects.timers fired."""

    def on_unloaded(self) -> Effects:
        """The shard is moving away (partition leadership lost): fail waiting requests."""
