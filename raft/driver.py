"""The asyncio driver of the raft core: it owns the metadata log, the quorum-state file and the
listeners, carries out the core's actions, and offers Kafka's RaftClient interface.

    client = RaftClient(node_id, voters, "<metadata.log.dir>/__cluster_metadata-0")
    client.register(listener)
    await client.start()            # a sole voter is leader of a new epoch when this returns
    last_offset = client.append([record_frame, ...])   # one atomic batch (leader only)
    await client.wait_for_commit(last_offset)

Appends are written to the log at once (so the offsets are known when `append` returns);
a background task fsyncs them off the event loop, and a flush that makes a majority of
voters durable advances the high watermark, which delivers the newly committed batches to
every listener, in order, on the event loop.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from pathlib import Path
from typing import Callable, Iterable

from protocol.compiler import codec_for
from protocol.messages import data_spec
from protocol.records import ControlType
from raft.core import (
    Action, AppendLeaderChange, HighWatermarkAdvanced, LeaderChanged, PersistElectionState, RaftConfig,
    RaftCore, SendMessage,
)
from raft.errors import InvalidSnapshotIdError, RaftClosedError, RaftError
from raft.log import RaftLog
from raft.quorum_state import QuorumStateStore
from raft.snapshot import SnapshotWriter
from raft.types import LeaderAndEpoch, OffsetAndEpoch, RaftListener

logger = logging.getLogger(__name__)

_LEADER_CHANGE = codec_for(data_spec("LeaderChangeMessage"), 0)
_Voter = _LEADER_CHANGE.cls.Voter


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def leader_change_value(leader_id: int, voters: Iterable[int], granting: Iterable[int]) -> bytes:
    """The LeaderChangeMessage (v0) a new leader writes as its first record."""
    msg = _LEADER_CHANGE.cls(version=0, leader_id=leader_id,
                             voters=[_Voter(voter_id=v) for v in voters],
                             granting_voters=[_Voter(voter_id=v) for v in granting])
    return _LEADER_CHANGE.encode(msg)


def decode_leader_change(value: bytes):
    return _LEADER_CHANGE.decode(value)


class _ListenerContext:
    __slots__ = ("listener", "next_offset", "last_leader")

    def __init__(self, listener: RaftListener) -> None:
        self.listener = listener
        self.next_offset = 0
        self.last_leader: LeaderAndEpoch | None = None


class RaftClient:
    """One replica of the metadata quorum (Kafka's KafkaRaftClient, single-voter for now)."""

    def __init__(self, node_id: int, voters: Iterable[int], directory: Path | str, *,
                 clock: Callable[[], int] | None = None, fsync: bool = True,
                 config: RaftConfig | None = None, rng: random.Random | None = None) -> None:
        self.node_id = node_id
        self.dir = Path(directory)
        self._clock = clock or _wall_clock_ms
        self.log = RaftLog.open(self.dir, clock=self._clock, fsync=fsync)
        self.store = QuorumStateStore(self.dir, fsync=fsync)
        self.core = RaftCore(node_id, voters, config, rng)
        self._listeners: dict[int, _ListenerContext] = {}
        self._waiters: list[tuple[int, int, asyncio.Future]] = []
        self._seq = itertools.count()
        self._flush_needed = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._started = False
        self._closed = False
        self._delivering = False
        self._deliver_again = False

    # -- the client interface ------------------------------------------------------------

    @property
    def voters(self) -> frozenset[int]:
        return self.core.voters

    def register(self, listener: RaftListener) -> None:
        """Add a listener; it is brought up to the committed offset from the start of the
        log (or the latest snapshot)."""
        self._listeners[id(listener)] = _ListenerContext(listener)
        if self._started:
            self._update_listeners()

    def unregister(self, listener: RaftListener) -> None:
        self._listeners.pop(id(listener), None)

    def leader_and_epoch(self) -> LeaderAndEpoch:
        return self.core.leader_and_epoch()

    @property
    def epoch(self) -> int:
        return self.core.epoch

    @property
    def is_leader(self) -> bool:
        return self.core.is_leader

    @property
    def high_watermark(self) -> int | None:
        """The committed offset (exclusive); None until this replica knows it."""
        return self.core.high_watermark

    @property
    def log_end_offset(self) -> int:
        """Where the next append will start."""
        return self.log.end_offset

    def append(self, records: list[bytes]) -> int:
        """Append record values as one atomic batch in the current epoch; returns the offset
        of the last one. Raises NotLeaderError unless this replica leads."""
        if self._closed:
            raise RaftClosedError("raft client is closed")
        if not records:
            raise ValueError("nothing to append")
        epoch = self.core.check_append()
        _first, last = self.log.append_as_leader(records, epoch, self._clock())
        self.core.on_log_appended(OffsetAndEpoch(last + 1, epoch))
        self._flush_needed.set()
        return last

    async def wait_for_commit(self, offset: int) -> None:
        """Resolve once `offset` is committed (and delivered to the listeners)."""
        hw = self.core.high_watermark
        if hw is not None and offset < hw:
            return
        if self._closed:
            raise RaftClosedError("raft client is closed")
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (offset, next(self._seq), fut))
        await fut

    @property
    def latest_snapshot_id(self) -> OffsetAndEpoch | None:
        return self.log.latest_snapshot_id

    def create_snapshot(self, snapshot_id: OffsetAndEpoch, last_contained_log_time_ms: int) -> SnapshotWriter:
        """A writer for a snapshot of the state up to `snapshot_id.offset`, which must be
        committed. Append the records and `freeze()` it (from any thread)."""
        hw = self.core.high_watermark
        if hw is None or snapshot_id.offset > hw:
            raise InvalidSnapshotIdError(f"snapshot {snapshot_id} is not committed (high watermark {hw})")
        return self.log.snapshot_writer(snapshot_id, last_contained_log_time_ms, self._clock())

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Restore the election state and join the quorum. A sole voter becomes leader of a
        new epoch and commits; this returns once every listener has caught up with it."""
        if self._started:
            return
        self._started = True
        stored = self.store.read()
        actions = self.core.start(stored, self.log.end_offset_and_epoch(), self._clock())
        self._tasks.append(asyncio.create_task(self._flush_loop(), name=f"raft-flush-{self.node_id}"))
        if not self.core.is_sole_voter:
            self._tasks.append(asyncio.create_task(self._timer_loop(), name=f"raft-timer-{self.node_id}"))
        self._execute(actions)
        if self.core.is_leader:
            start = self.core.epoch_start_offset
            assert start is not None
            await self.wait_for_commit(start)

    async def close(self) -> None:
        """Stop: resign leadership, make the log durable and close it."""
        if self._closed:
            return
        self._closed = True
        self._execute(self.core.resign(self._clock()))
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks.clear()
        await asyncio.get_running_loop().run_in_executor(None, self.log.close)
        self._fail_waiters(RaftClosedError("raft client closed before the offset committed"))

    def _fail_waiters(self, exc: Exception) -> None:
        while self._waiters:
            _o, _s, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_exception(exc)

    # -- background work -----------------------------------------------------------------

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._flush_needed.wait()
            self._flush_needed.clear()
            end = self.log.end_offset
            if self.log.fsync:
                try:
                    await loop.run_in_executor(None, self.log.flush, end)
                except Exception as exc:
                    # Nothing more can commit: fail the waiters rather than hang them.
                    logger.exception("flushing the metadata log failed; no further commits")
                    self._fail_waiters(RaftError(f"metadata log flush failed: {exc}"))
                    return
            if self._closed:
                return
            self._execute(self.core.on_log_flushed(end))

    async def _timer_loop(self) -> None:
        while True:
            deadline = self.core.next_deadline()
            delay = 0.1 if deadline is None else max(0.0, (deadline - self._clock()) / 1000)
            await asyncio.sleep(min(delay, 0.1))
            self._execute(self.core.poll(self._clock()))

    # -- actions -------------------------------------------------------------------------

    def _execute(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, PersistElectionState):
                self.store.write(action.state)
            elif isinstance(action, AppendLeaderChange):
                value = leader_change_value(action.leader_id, action.voters, action.granting_voters)
                _first, last = self.log.append_control(ControlType.LEADER_CHANGE, value, action.epoch,
                                                       self._clock())
                self.core.on_log_appended(OffsetAndEpoch(last + 1, action.epoch))
                self._flush_needed.set()
            elif isinstance(action, HighWatermarkAdvanced):
                self.log.high_watermark = action.high_watermark
            elif isinstance(action, LeaderChanged):
                level = logging.INFO if action.leader.leader_id is not None else logging.DEBUG
                logger.log(level, "metadata quorum epoch %d: leader %s (node %d)", action.leader.epoch,
                           action.leader.leader_id, self.node_id)
            elif isinstance(action, SendMessage):
                # No transport yet: multi-voter replication comes with a later issue.
                logger.debug("dropping raft message to %d: %r", action.destination, action.message)
        if actions:
            self._update_listeners()

    def _update_listeners(self) -> None:
        if self._delivering:
            self._deliver_again = True
            return
        self._delivering = True
        try:
            while True:
                self._deliver_again = False
                for ctx in list(self._listeners.values()):
                    self._catch_up(ctx)
                self._resolve_waiters()
                if not self._deliver_again:
                    break
        finally:
            self._delivering = False

    def _catch_up(self, ctx: _ListenerContext) -> None:
        hw = self.core.high_watermark
        self._maybe_fire_leader_change(ctx)
        if hw is None:
            return
        while ctx.next_offset < hw and id(ctx.listener) in self._listeners:
            latest = self.log.latest_snapshot_id
            if latest is not None and latest.offset <= hw and (
                    (ctx.next_offset == 0 and latest.offset > 0) or ctx.next_offset < self.log.start_offset):
                reader = self.log.read_snapshot(latest)
                self._call(ctx.listener.handle_load_snapshot, reader)
                ctx.next_offset = latest.offset
                self._maybe_fire_leader_change(ctx)
                continue
            delivered = False
            for batch in self.log.read_batches(ctx.next_offset, hw):
                self._call(ctx.listener.handle_commit, batch)
                ctx.next_offset = batch.last_offset + 1
                delivered = True
                self._maybe_fire_leader_change(ctx)
                if id(ctx.listener) not in self._listeners:
                    return
            if not delivered:
                break

    def _maybe_fire_leader_change(self, ctx: _ListenerContext) -> None:
        leader = self.core.leader_and_epoch()
        if ctx.last_leader == leader:
            return
        if leader.is_leader(self.node_id):
            # A new leader's state machine must have seen everything before its epoch.
            start = self.core.epoch_start_offset
            if start is None or ctx.next_offset < start:
                return
        ctx.last_leader = leader
        self._call(ctx.listener.handle_leader_change, leader)

    @staticmethod
    def _call(fn: Callable, arg: object) -> None:
        try:
            fn(arg)
        except Exception:
            logger.exception("raft listener %r failed", fn)

    def _resolve_waiters(self) -> None:
        hw = self.core.high_watermark
        if hw is None:
            return
        while self._waiters and self._waiters[0][0] < hw:
            _o, _s, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)

    def __repr__(self) -> str:
        return (f"RaftClient(node={self.node_id}, {self.core.role.value}, epoch={self.core.epoch}, "
                f"hw={self.core.high_watermark})")
