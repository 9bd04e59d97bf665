"""The coordinator runtime: one shard per led partition of an internal topic, its records
loaded at leadership, its operations' records appended and replayed, its timers armed.

Operations run on the event loop one at a time, so a shard never sees two at once. Responses
are released when the batch holding the operation's records is committed; an operation that
writes nothing answers at once (its state already reflects committed records, or the previous
operation's still pending ones, as in Kafka's coordinator runtime).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

from protocol.errors import CorruptRecordError, ErrorCode
from protocol.records import ControlType, Record, build_batch, decode_batch, iter_batches, parse_control_key
from pybroker.coordinator.partitioner import partition_for
from pybroker.coordinator.shard import CoordinatorRecord, CoordinatorShard, Effects, TxnMarker
from pybroker.metadata.requests import CreatableTopic, CreateTopicsRequest
from storage import OffsetOutOfRangeError

log = logging.getLogger("pybroker.coordinator")

LOAD_CHUNK = 8 * 1024 * 1024


class CoordinatorError(Exception):
    """The request cannot reach a loaded shard; `code` is what Kafka answers."""

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or ErrorCode(code).name)
        self.code = int(code)


@dataclass
class _ShardState:
    partition: int
    shard: CoordinatorShard
    leader_epoch: int
    loading: bool = True
    # The end of the last batch this shard wrote: responses wait until it is committed, even
    # those of operations that write nothing (their reads saw that batch's effects).
    written_end: int = 0
    waiters: dict[Any, asyncio.Future] = field(default_factory=dict)
    timers: dict[Hashable, asyncio.TimerHandle] = field(default_factory=dict)
    load_task: asyncio.Task | None = None


class CoordinatorRuntime:
    """Runs the shards of one internal topic on this broker."""

    def __init__(
        self,
        broker: Any,
        topic: str,
        partitions: int,
        replication_factor: int,
        topic_configs: dict[str, str],
        shard_factory: Callable[[int], CoordinatorShard],
        on_actions: Callable[[int, list[Any]], None] | None = None,
    ) -> None:
        self.broker = broker
        self.topic = topic
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.topic_configs = topic_configs
        self.shard_factory = shard_factory
        self.on_actions = on_actions
        self.shards: dict[int, _ShardState] = {}
        self._creating: asyncio.Task | None = None
        self._closed = False

    # --- routing ---------------------------------------------------------------------------------
    def partition_for(self, key: str) -> int:
        topic = self.broker.image.topic(self.topic)
        count = topic.num_partitions if topic is not None else self.partitions
        return partition_for(key, count)

    async def ensure_topic(self) -> bool:
        """Create the internal topic on first use, as Kafka does; True once it exists."""
        if self.broker.image.topic(self.topic) is not None:
            return True
        if self._creating is None or self._creating.done():
            self._creating = asyncio.ensure_future(self._create())
        await asyncio.shield(self._creating)
        return self.broker.image.topic(self.topic) is not None

    async def _create(self) -> None:
        request = CreateTopicsRequest([
            CreatableTopic(name=self.topic, num_partitions=self.partitions,
                           replication_factor=self.replication_factor, configs=dict(self.topic_configs))
        ])
        [result] = await self.broker.controller_call("create_topics", request)
        if result.error.ok:
            log.info("created internal topic %s with %d partitions", self.topic, self.partitions)
        elif result.error.code != ErrorCode.TOPIC_ALREADY_EXISTS:
            log.warning("cannot create internal topic %s: %s", self.topic, result.error.message)

    def coordinator_for(self, key: str) -> int:
        """The broker id leading the key's partition, or -1."""
        reg = self.broker.image.partition(self.topic, self.partition_for(key))
        return reg.leader if reg is not None else -1

    # --- operations -----------------------------------------------------------------------------
    def _state(self, partition: int) -> _ShardState:
        st = self.shards.get(partition)
        if st is None:
            raise CoordinatorError(ErrorCode.NOT_COORDINATOR)
        if st.loading:
            raise CoordinatorError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
        return st

    def shard_for(self, key: str) -> CoordinatorShard:
        """The loaded shard owning `key` (for reads); CoordinatorError otherwise."""
        return self._state(self.partition_for(key)).shard

    def loaded_shards(self) -> list[CoordinatorShard]:
        return [st.shard for st in self.shards.values() if not st.loading]

    async def call(self, key: str, op: Callable[[Any, Any, int], Effects]) -> Any:
        """Run `op(shard, token, now_ms)` on the shard owning `key`; return the response the
        shard eventually gives `token`."""
        return await self.call_partition(self.partition_for(key), op)

    async def call_partition(self, partition: int, op: Callable[[Any, Any, int], Effects]) -> Any:
        st = self._state(partition)
        loop = asyncio.get_running_loop()
        token = object()
        fut = loop.create_future()
        st.waiters[token] = fut
        try:
            effects = op(st.shard, token, self.broker.clock_ms())
            self._apply(st, effects)
            return await fut
        finally:
            st.waiters.pop(token, None)

    def _apply(self, st: _ShardState, effects: Effects) -> None:
        for key, deadline in effects.timers:
            self._set_timer(st, key, deadline)
        partition = self.broker.replicas.get(self.topic, st.partition)
        if not effects.records:
            if partition is None or partition.high_watermark >= st.written_end:
                self._respond(st, effects.responses)
                self._act(st, effects.actions)
            else:
                asyncio.ensure_future(self._respond_when_committed(
                    st, partition, st.written_end, effects.responses, effects.actions))
            return
        try:
            if partition is None or not partition.is_leader or partition.leader_epoch != st.leader_epoch:
                raise CoordinatorError(ErrorCode.NOT_COORDINATOR)
            batch = build_batch(
                [Record(offset_delta=i, timestamp_delta=0, key=r.key, value=r.value)
                 for i, r in enumerate(effects.records)],
                base_timestamp=self.broker.clock_ms(),
                producer_id=effects.producer_id,
                producer_epoch=effects.producer_epoch,
                is_transactional=effects.producer_id >= 0,
                base_sequence=-1,
            )
            result = partition.log.append(batch, leader_epoch=partition.leader_epoch, validate_producers=False)
            partition.after_append()
        except CoordinatorError as exc:
            self._fail(st, effects.responses, exc)
            return
        except Exception as exc:
            log.error("%s-%d: cannot append coordinator records: %s", self.topic, st.partition, exc)
            self._fail(st, effects.responses, CoordinatorError(ErrorCode.NOT_COORDINATOR))
            return
        for i, record in enumerate(effects.records):
            st.shard.replay(result.first_offset + i, record, effects.producer_id, effects.producer_epoch)
        target = st.written_end = result.last_offset + 1
        if partition.high_watermark >= target:
            self._respond(st, effects.responses)
            self._act(st, effects.actions)
        else:
            asyncio.ensure_future(self._respond_when_committed(st, partition, target, effects.responses,
                                                               effects.actions))

    def _act(self, st: _ShardState, actions: list[Any]) -> None:
        if actions and self.on_actions is not None:
            self.on_actions(st.partition, actions)

    async def _respond_when_committed(self, st: _ShardState, partition: Any, target: int, responses: list,
                                      actions: list) -> None:
        loop = asyncio.get_running_loop()
        while partition.high_watermark < target and not partition.deleted:
            fut = loop.create_future()
            partition.add_waiter(fut)
            try:
                await asyncio.wait_for(fut, 30)
            except asyncio.TimeoutError:
                break
            finally:
                partition.remove_waiter(fut)
        if partition.high_watermark >= target:
            self._respond(st, responses)
            self._act(st, actions)
        else:
            self._fail(st, responses, CoordinatorError(ErrorCode.NOT_COORDINATOR))

    @staticmethod
    def _respond(st: _ShardState, responses: list[tuple[Any, Any]]) -> None:
        for token, response in responses:
            fut = st.waiters.get(token)
            if fut is not None and not fut.done():
                fut.set_result(response)

    @staticmethod
    def _fail(st: _ShardState, responses: list[tuple[Any, Any]], exc: Exception) -> None:
        for token, _ in responses:
            fut = st.waiters.get(token)
            if fut is not None and not fut.done():
                fut.set_exception(exc)

    # --- timers ------------------------------------------------------------------------------------
    def _set_timer(self, st: _ShardState, key: Hashable, deadline_ms: int | None) -> None:
        old = st.timers.pop(key, None)
        if old is not None:
            old.cancel()
        if deadline_ms is None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, (deadline_ms - self.broker.clock_ms()) / 1000)
        st.timers[key] = loop.call_later(delay, self._fire, st, key)

    def _fire(self, st: _ShardState, key: Hashable) -> None:
        st.timers.pop(key, None)
        if self.shards.get(st.partition) is not st or st.loading:
            return
        try:
            self._apply(st, st.shard.on_timer(key, self.broker.clock_ms()))
        except Exception:
            log.exception("%s-%d: timer %r failed", self.topic, st.partition, key)

    def run(self, partition: int, op: Callable[[Any, int], Effects]) -> None:
        """Run an operation that answers no request of its own (metadata updates, markers)."""
        st = self.shards.get(partition)
        if st is None or st.loading:
            return
        try:
            self._apply(st, op(st.shard, self.broker.clock_ms()))
        except Exception:
            log.exception("%s-%d: operation failed", self.topic, partition)

    # --- leadership ------------------------------------------------------------------------------
    def on_metadata(self, image: Any) -> None:
        """Load shards of partitions this broker now leads; unload the others."""
        if self._closed:
            return
        topic = image.topic(self.topic)
        led: dict[int, int] = {}
        if topic is not None:
            for index, reg in topic.partitions.items():
                if reg.leader == self.broker.node_id:
                    led[index] = reg.leader_epoch
        for index in [i for i, st in self.shards.items() if led.get(i) != st.leader_epoch]:
            self._unload(index)
        for index, epoch in led.items():
            if index not in self.shards:
                st = _ShardState(index, self.shard_factory(index), epoch)
                self.shards[index] = st
                st.load_task = asyncio.ensure_future(self._load(st))
        for index, st in self.shards.items():
            if not st.loading and hasattr(st.shard, "on_metadata_update"):
                self.run(index, lambda shard, now: shard.on_metadata_update(image, now))

    async def _load(self, st: _ShardState) -> None:
        partition = self.broker.replicas.get(self.topic, st.partition)
        if partition is None:
            return
        log_obj = partition.log
        offset = log_obj.log_start_offset
        count = 0
        try:
            while offset < log_obj.log_end_offset:
                try:
                    data = log_obj.read(offset, LOAD_CHUNK).records
                except OffsetOutOfRangeError:
                    break
                if not data:
                    break
                for pos, h in iter_batches(data):
                    if h.last_offset < offset:
                        continue
                    count += self._replay_batch(st, data, pos, h)
                    offset = h.last_offset + 1
                    st.written_end = offset
                await asyncio.sleep(0)
                if self.shards.get(st.partition) is not st:
                    return
            st.loading = False
            self._apply(st, st.shard.on_loaded(self.broker.clock_ms()))
            if count:
                log.info("%s-%d: loaded %d records", self.topic, st.partition, count)
        except Exception:
            log.exception("%s-%d: loading failed", self.topic, st.partition)

    @staticmethod
    def _replay_batch(st: _ShardState, data: Any, pos: int, h: Any) -> int:
        try:
            header, records = decode_batch(data, pos)
        except CorruptRecordError as exc:
            log.error("%s: skipping a corrupt batch at offset %d: %s", st.partition, h.base_offset, exc)
            return 0
        if header.is_control:
            for r in records:
                version, kind = parse_control_key(r.key)
                if kind in (ControlType.ABORT, ControlType.COMMIT):
                    st.shard.replay(header.base_offset + r.offset_delta,
                                    TxnMarker(header.producer_id, header.producer_epoch, kind == ControlType.COMMIT),
                                    header.producer_id, header.producer_epoch)
            return len(records)
        for r in records:
            if r.key is None:
                continue
            st.shard.replay(header.base_offset + r.offset_delta, CoordinatorRecord(bytes(r.key), None if r.value is None else bytes(r.value)),
                            header.producer_id, header.producer_epoch)
        return len(records)

    def replay_marker(self, partition: int, offset: int, marker: TxnMarker) -> None:
        """A transaction marker was written to one of this topic's partitions."""
        st = self.shards.get(partition)
        if st is not None and not st.loading:
            st.shard.replay(offset, marker, marker.producer_id, marker.producer_epoch)

    def _unload(self, index: int) -> None:
        st = self.shards.pop(index, None)
        if st is None:
            return
        if st.load_task is not None:
            st.load_task.cancel()
        for handle in st.timers.values():
            handle.cancel()
        st.timers.clear()
        try:
            effects = st.shard.on_unloaded()
            self._respond(st, effects.responses)
        except Exception:
            log.exception("%s-%d: unloading failed", self.topic, index)
        for fut in st.waiters.values():
            if not fut.done():
                fut.set_exception(CoordinatorError(ErrorCode.NOT_COORDINATOR))

    def close(self) -> None:
        self._closed = True
        for index in list(self.shards):
            self._unload(index)
