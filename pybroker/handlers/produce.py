"""Produce: append record batches as partition leader, acks 0, 1 and all; with transaction
version 2 (Produce v12+), a transactional batch first adds its partition to the transaction."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import ProduceResponse
from pybroker.partitions import Partition, PartitionError
from pybroker.server.dispatch import RequestContext

log = logging.getLogger("pybroker.produce")

TopicResponse = ProduceResponse.TopicProduceResponse
PartitionResponse = ProduceResponse.PartitionProduceResponse


def _error(index: int, code: int, message: str | None = None) -> Any:
    return PartitionResponse(index=index, error_code=code, base_offset=-1, log_append_time_ms=-1,
                             log_start_offset=-1, error_message=message)


def handle_produce(ctx: RequestContext, request: Any) -> Any:
    txn = getattr(ctx.broker, "transactions", None) if request.transactional_id is not None else None
    if txn is not None and txn.uses_v2(ctx.api_version, 12):
        # Transaction version 2: partitions not yet in the transaction are added to it on the
        # producer's behalf before the appends (KIP-890 part 2; no AddPartitionsToTxn from it).
        adds = txn.produce_partitions_to_add(ctx, request)
        if adds.errors:
            return _produce(ctx, request, adds.errors)
        if adds.partitions:
            return _add_then_produce(ctx, request, adds)
    return _produce(ctx, request, None)


async def _add_then_produce(ctx: RequestContext, request: Any, adds: Any) -> Any:
    from pybroker.transactions.coordinator import produce_verification_error

    codes = await ctx.broker.transactions.add_for_write(
        request.transactional_id, adds.producer_id, adds.producer_epoch, adds.partitions.values())
    errors = {}
    for key, tp in adds.partitions.items():
        code = codes.get(tp, ErrorCode.NONE)
        if code != ErrorCode.NONE:
            errors[key] = produce_verification_error(code, ctx.api_version)
    response = _produce(ctx, request, errors)
    if inspect.isawaitable(response):
        response = await response
    return response


def _produce(ctx: RequestContext, request: Any, errors: dict[tuple[Any, int], int] | None) -> Any:
    """Append each partition's records (`errors`: partitions answered without an append)."""
    broker = ctx.broker
    acks = request.acks
    by_id = ctx.api_version >= 13
    responses = []
    # Partitions appended to, with the offset the high watermark must reach for acks=all.
    waiting: list[tuple[Partition, int, Any]] = []
    failed = False
    for topic in request.topic_data:
        if by_id:
            name = broker.replicas.topic_name(topic.topic_id)
        else:
            name = topic.name
        out = []
        for p in topic.partition_data:
            if acks not in (0, 1, -1):
                out.append(_error(p.index, ErrorCode.INVALID_REQUIRED_ACKS))
                failed = True
                continue
            if errors and (name, p.index) in errors:
                code = errors[(name, p.index)]
                out.append(_error(p.index, code, "the partition was not added to the transaction"
                                  if code == ErrorCode.INVALID_TXN_STATE else None))
                failed = True
                continue
            try:
                partition = broker.replicas.leader_partition(name, p.index, by_id=by_id)
                if request.transactional_id is not None:
                    broker.check_transactional_produce(ctx, request.transactional_id, partition, p.records)
                result = partition_append(broker, partition, p.records, acks)
            except PartitionError as exc:
                out.append(_error(p.index, exc.code, str(exc)))
                failed = True
                continue
            response = PartitionResponse(
                index=p.index,
                error_code=ErrorCode.NONE,
                base_offset=result.first_offset,
                log_append_time_ms=result.log_append_time_ms,
                log_start_offset=result.log_start_offset,
            )
            out.append(response)
            if acks == -1:
                waiting.append((partition, result.last_offset + 1, response))
        responses.append(TopicResponse(name=name if not by_id else "", topic_id=topic.topic_id, partition_responses=out))
    if acks == 0:
        if failed:
            # With acks=0 the producer never reads a response; closing the connection is how
            # Kafka tells it to refresh its metadata.
            ctx.connection.close()
        return None
    response = ProduceResponse(responses=responses, throttle_time_ms=0)
    pending = [(p, target, r) for p, target, r in waiting if p.high_watermark < target]
    if not pending:
        return response
    return _await_replication(pending, response, request.timeout_ms)


async def _await_replication(pending: list[tuple[Partition, int, Any]], response: Any, timeout_ms: int) -> Any:
    """acks=all: answer when every partition's high watermark covers its append, or time out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(timeout_ms, 0) / 1000
    while pending:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        fut = loop.create_future()
        for partition, _, _ in pending:
            partition.add_waiter(fut)
        try:
            await asyncio.wait_for(fut, remaining)
        except asyncio.TimeoutError:
            pass
        finally:
            for partition, _, _ in pending:
                partition.remove_waiter(fut)
        pending = [(p, t, r) for p, t, r in pending if p.high_watermark < t and not p.deleted]
    for partition, _, r in pending:
        if len(partition.isr) < partition.log.config.min_insync_replicas:
            r.error_code = ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
        else:
            r.error_code = ErrorCode.REQUEST_TIMED_OUT
    return response


def partition_append(broker: Any, partition: Partition, records: Any, acks: int) -> Any:
    """Validate and append one partition's records as leader; PartitionError on failure."""
    if records is None or len(records) == 0:
        raise PartitionError(ErrorCode.INVALID_RECORD, "no record batches")
    if acks == -1 and len(partition.isr) < partition.log.config.min_insync_replicas:
        raise PartitionError(ErrorCode.NOT_ENOUGH_REPLICAS)
    result = broker.replicas.append_records(partition, records)
    if not result.duplicate:
        broker.stats.produced(partition.topic, len(records), result.last_offset - result.first_offset + 1)
    return result
