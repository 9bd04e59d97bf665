"""Fetch: whole batches from partition logs, with long polls, byte limits and fetch sessions."""

from __future__ import annotations

import asyncio
from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import FetchResponse
from pybroker.fetch_sessions import FINAL_EPOCH, INITIAL_EPOCH, FetchSession, SessionError, SessionPartition
from pybroker.partitions import Partition, PartitionError
from pybroker.server.dispatch import RequestContext
from storage import LogClosedError, OffsetOutOfRangeError

READ_COMMITTED = 1

TopicResponse = FetchResponse.FetchableTopicResponse
PartitionData = FetchResponse.PartitionData


class _Fetch:
    """One fetch request being answered: its partitions, limits and session."""

    __slots__ = ("ctx", "request", "items", "session", "incremental", "by_id", "isolation", "deadline")

    def __init__(self, ctx: RequestContext, request: Any) -> None:
        self.ctx = ctx
        self.request = request
        self.by_id = ctx.api_version >= 13
        self.isolation = request.isolation_level if ctx.api_version >= 4 else 0
        self.items: list[SessionPartition] = []
        self.session: FetchSession | None = None
        self.incremental = False
        self.deadline = 0.0


def _key(by_id: bool, topic: Any) -> Any:
    return topic.topic_id if by_id else topic.topic


def _request_partitions(f: _Fetch) -> list[SessionPartition]:
    out = []
    replicas = f.ctx.broker.replicas
    for topic in f.request.topics:
        name = replicas.topic_name(topic.topic_id) if f.by_id else topic.topic
        for p in topic.partitions:
            out.append(
                SessionPartition(
                    topic=name,
                    topic_id=topic.topic_id,
                    index=p.partition,
                    fetch_offset=p.fetch_offset,
                    max_bytes=p.partition_max_bytes,
                    log_start_offset=p.log_start_offset,
                    current_leader_epoch=p.current_leader_epoch,
                    last_fetched_epoch=p.last_fetched_epoch,
                )
            )
    return out


def _error_response(code: int, session_id: int = 0) -> Any:
    return FetchResponse(throttle_time_ms=0, error_code=code, session_id=session_id, responses=[])


def handle_fetch(ctx: RequestContext, request: Any) -> Any:
    v = ctx.api_version
    replica_id = request.replica_state.replica_id if v >= 15 else request.replica_id
    if replica_id >= 0:
        return ctx.broker.handle_replica_fetch(ctx, request, replica_id)
    f = _Fetch(ctx, request)
    cache = ctx.broker.fetch_sessions
    now = ctx.broker.clock_ms()
    if v < 7:
        f.items = _request_partitions(f)
    else:
        sid, epoch = request.session_id, request.session_epoch
        if epoch in (INITIAL_EPOCH, FINAL_EPOCH):
            if sid:
                cache.close(sid)
            f.items = _request_partitions(f)
            if epoch == INITIAL_EPOCH:
                f.session = cache.create(now)
                if f.session is not None:
                    for item in f.items:
                        f.session.partitions[(item.topic_id if f.by_id else item.topic, item.index)] = item
        else:
            try:
                f.session = cache.lookup(sid, epoch, now)
            except SessionError as exc:
                return _error_response(exc.code)
            f.incremental = True
            parts = f.session.partitions
            for item in _request_partitions(f):
                key = (item.topic_id if f.by_id else item.topic, item.index)
                old = parts.get(key)
                if old is not None:
                    item.sent_high_watermark = old.sent_high_watermark
                    item.sent_last_stable_offset = old.sent_last_stable_offset
                    item.sent_log_start_offset = old.sent_log_start_offset
                parts[key] = item
            for topic in request.forgotten_topics_data:
                for index in topic.partitions:
                    parts.pop((_key(f.by_id, topic), index), None)
            f.items = list(parts.values())
        if f.session is not None:
            f.session.epoch += 1 if f.incremental else 0
    responses, total, has_error, waiting_on = _read_all(f)
    if total >= request.min_bytes or has_error or request.max_wait_ms <= 0 or not waiting_on:
        return _finish(f, responses)
    loop = asyncio.get_running_loop()
    f.deadline = loop.time() + request.max_wait_ms / 1000
    return _long_poll(f, waiting_on)


async def _long_poll(f: _Fetch, waiting_on: list[Partition]) -> Any:
    loop = asyncio.get_running_loop()
    while True:
        remaining = f.deadline - loop.time()
        if remaining <= 0:
            break
        fut = loop.create_future()
        for p in waiting_on:
            p.add_waiter(fut)
        try:
            await asyncio.wait_for(fut, remaining)
        except asyncio.TimeoutError:
            pass
        finally:
            for p in waiting_on:
                p.remove_waiter(fut)
        responses, total, has_error, waiting_on = _read_all(f)
        if total >= f.request.min_bytes or has_error or not waiting_on:
            return _finish(f, responses)
    responses, _, _, _ = _read_all(f)
    return _finish(f, responses)


def _read_all(f: _Fetch) -> tuple[list[tuple[SessionPartition, Any]], int, bool, list[Partition]]:
    """Read every partition once; return (item, data) pairs, bytes read, whether any partition
    failed, and the partitions a long poll would wait on."""
    replicas = f.ctx.broker.replicas
    budget = f.request.max_bytes if f.ctx.api_version >= 3 else 0x7FFFFFFF
    first = True
    total = 0
    has_error = False
    out: list[tuple[SessionPartition, Any]] = []
    waiting_on: list[Partition] = []
    for item in f.items:
        data = PartitionData(partition_index=item.index, high_watermark=-1, last_stable_offset=-1,
                             log_start_offset=-1, aborted_transactions=None, preferred_read_replica=-1,
                             records=b"")
        try:
            if item.topic is None:
                raise PartitionError(ErrorCode.UNKNOWN_TOPIC_ID if f.by_id else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            partition = replicas.leader_partition(item.topic, item.index, current_leader_epoch=item.current_leader_epoch)
        except PartitionError as exc:
            data.error_code = exc.code
            has_error = True
            out.append((item, data))
            continue
        log = partition.log
        hw = log.high_watermark
        lso = partition.last_stable_offset()
        max_offset = lso if f.isolation == READ_COMMITTED else hw
        data.high_watermark = hw
        data.last_stable_offset = lso
        data.log_start_offset = log.log_start_offset
        if f.isolation == READ_COMMITTED:
            data.aborted_transactions = []
        limit = min(item.max_bytes, budget)
        try:
            if limit > 0 or first:
                result = log.read(item.fetch_offset, max(limit, 0), max_offset=max_offset, min_one_batch=first)
                records = result.records
            else:
                records = b""
        except OffsetOutOfRangeError:
            data.error_code = ErrorCode.OFFSET_OUT_OF_RANGE
            has_error = True
            out.append((item, data))
            continue
        except LogClosedError:  # the partition went away (deleted, or the broker is stopping)
            data.error_code = ErrorCode.NOT_LEADER_OR_FOLLOWER
            has_error = True
            out.append((item, data))
            continue
        n = len(records)
        if n:
            data.records = records
            f.ctx.broker.stats.fetched(item.topic, n)
            if f.isolation == READ_COMMITTED:
                data.aborted_transactions = partition.aborted_transactions(item.fetch_offset, max_offset,
                                                                           records)
            total += n
            budget -= n
            first = False
        else:
            waiting_on.append(partition)
        out.append((item, data))
    return out, total, has_error, waiting_on


def _finish(f: _Fetch, pairs: list[tuple[SessionPartition, Any]]) -> Any:
    responses: list[Any] = []
    current: Any = None
    current_key: Any = object()
    for item, data in pairs:
        if f.incremental:
            changed = (
                data.error_code != 0
                or (data.records is not None and len(data.records) > 0)
                or data.high_watermark != item.sent_high_watermark
                or data.last_stable_offset != item.sent_last_stable_offset
                or data.log_start_offset != item.sent_log_start_offset
            )
            if not changed:
                continue
        item.sent_high_watermark = data.high_watermark
        item.sent_last_stable_offset = data.last_stable_offset
        item.sent_log_start_offset = data.log_start_offset
        key = item.topic_id if f.by_id else item.topic
        if key != current_key:
            current = TopicResponse(topic=item.topic or "", topic_id=item.topic_id, partitions=[])
            responses.append(current)
            current_key = key
        current.partitions.append(data)
    session_id = f.session.session_id if f.session is not None else 0
    return FetchResponse(throttle_time_ms=0, error_code=ErrorCode.NONE, session_id=session_id, responses=responses)
