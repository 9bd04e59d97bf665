"""Transactions: InitProducerId (with a transactional id), AddPartitionsToTxn, AddOffsetsToTxn,
EndTxn, TxnOffsetCommit, WriteTxnMarkers, DescribeTransactions, ListTransactions and
DescribeProducers.

Error codes follow Kafka per version: before KIP-588 versions (InitProducerId < 4,
AddPartitionsToTxn/AddOffsetsToTxn/EndTxn < 2, TxnOffsetCommit < 3) PRODUCER_FENCED is answered
as INVALID_PRODUCER_EPOCH; TRANSACTION_ABORTABLE only to versions that know it (KIP-890).

Transaction version 2 (KIP-890 part 2) applies when the cluster finalizes transaction.version 2
and the request is EndTxn v5 (the epoch bumped, answered in the response), TxnOffsetCommit v5
(the group's offsets partition added on the client's behalf) or AddPartitionsToTxn v4+ without
verify_only (a broker adding a Produce's partitions); anything else is served as version 1.
"""

from __future__ import annotations

import re
from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import (
    AddOffsetsToTxnResponse,
    AddPartitionsToTxnResponse,
    DescribeProducersResponse,
    DescribeTransactionsResponse,
    EndTxnResponse,
    InitProducerIdResponse,
    ListTransactionsResponse,
    TxnOffsetCommitResponse,
    WriteTxnMarkersResponse,
)
from pybroker.coordinator import CoordinatorError
from pybroker.partitions import PartitionError
from pybroker.server.dispatch import RequestContext
from pybroker.transactions.markers import MarkerEntry, write_markers_locally

GROUPS = 0
GROUP_TOPIC = "__consumer_offsets"


def _fenced(code: int, version: int, first_with_fenced: int) -> int:
    return ErrorCode.INVALID_PRODUCER_EPOCH if code == ErrorCode.PRODUCER_FENCED and version < first_with_fenced else code


def _abortable(code: int, version: int, first_with_abortable: int) -> int:
    return ErrorCode.INVALID_TXN_STATE if code == ErrorCode.TRANSACTION_ABORTABLE and version < first_with_abortable else code


def _coordinator(ctx: RequestContext) -> Any:
    return getattr(ctx.broker, "transactions", None)


async def _call(ctx: RequestContext, transactional_id: str, op: Any) -> Any:
    txn = _coordinator(ctx)
    if txn is None or ctx.broker.image.topic(txn.runtime.topic) is None:
        raise CoordinatorError(ErrorCode.NOT_COORDINATOR)
    return await txn.runtime.call(transactional_id, op)


# --- InitProducerId ---------------------------------------------------------------------------------

async def init_transactional_producer(ctx: RequestContext, request: Any) -> Any:
    """InitProducerId with a transactional id (the broker's hook for producer_ids.py)."""
    v = ctx.api_version
    txn = _coordinator(ctx)
    pid = request.producer_id if v >= 3 else -1
    epoch = request.producer_epoch if v >= 3 else -1
    if txn is None or ctx.broker.image.topic(txn.runtime.topic) is None:
        code, pid_out, epoch_out = ErrorCode.NOT_COORDINATOR, -1, -1
    else:
        result = await txn.init_producer_id(request.transactional_id, request.transaction_timeout_ms, pid, epoch)
        code, pid_out, epoch_out = result.error, result.producer_id, result.producer_epoch
    code = _abortable(_fenced(code, v, 4), v, 5)
    if code != ErrorCode.NONE:
        pid_out, epoch_out = -1, -1
    return InitProducerIdResponse(throttle_time_ms=0, error_code=code, producer_id=pid_out, producer_epoch=epoch_out)


# --- AddPartitionsToTxn -----------------------------------------------------------------------------

R_APT = AddPartitionsToTxnResponse


def _topic_results(codes: dict[tuple[str, int], int]) -> list[Any]:
    by_topic: dict[str, list[Any]] = {}
    for (topic, index), code in codes.items():
        by_topic.setdefault(topic, []).append(
            R_APT.AddPartitionsToTxnPartitionResult(partition_index=index, partition_error_code=code))
    return [R_APT.AddPartitionsToTxnTopicResult(name=t, results_by_partition=ps) for t, ps in by_topic.items()]


def _requested(topics: list[Any]) -> list[tuple[str, int]]:
    return list(dict.fromkeys((t.name, p) for t in topics for p in t.partitions))


async def _add_one(ctx: RequestContext, transactional_id: str, producer_id: int, producer_epoch: int,
                   topics: list[Any], verify_only: bool) -> dict[tuple[str, int], int]:
    v = ctx.api_version
    txn = _coordinator(ctx)
    # A v4+ add that is not verify_only comes from a broker adding partitions for a client of
    # transaction version 2 (Kafka's transactionVersionForAddPartitionsToTxn).
    client_tv = 2 if txn is not None and not verify_only and txn.uses_v2(v, 4) else 0
    requested = _requested(topics)
    image = ctx.broker.image
    unknown = {tp for tp in requested
               if image.topic(tp[0]) is None or tp[1] not in image.topic(tp[0]).partitions}
    if not transactional_id:
        return {tp: ErrorCode.INVALID_REQUEST for tp in requested}
    if unknown:
        # Kafka adds nothing when some partition is unknown: the others are not attempted.
        return {tp: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if tp in unknown else ErrorCode.OPERATION_NOT_ATTEMPTED
                for tp in requested}
    parts = set(requested)
    try:
        if verify_only:
            result = await _call(ctx, transactional_id, lambda s, t, now: s.verify_partitions(
                transactional_id, producer_id, producer_epoch, parts, t, now))
        else:
            result = await _call(ctx, transactional_id, lambda s, t, now: s.add_partitions(
                transactional_id, producer_id, producer_epoch, parts, t, now, client_tv))
    except CoordinatorError as exc:
        result = exc.code
    if isinstance(result, int):
        result = {tp: result for tp in requested}
    return {tp: _abortable(_fenced(result[tp], v, 2), v, 5) for tp in requested}


async def handle_add_partitions_to_txn(ctx: RequestContext, request: Any) -> Any:
    if ctx.api_version <= 3:
        codes = await _add_one(ctx, request.v3_and_below_transactional_id, request.v3_and_below_producer_id,
                               request.v3_and_below_producer_epoch, request.v3_and_below_topics, False)
        return R_APT(throttle_time_ms=0, results_by_topic_v3_and_below=_topic_results(codes))
    results = []
    for txn in request.transactions:
        codes = await _add_one(ctx, txn.transactional_id, txn.producer_id, txn.producer_epoch, txn.topics,
                               txn.verify_only)
        results.append(R_APT.AddPartitionsToTxnResult(transactional_id=txn.transactional_id,
                                                      topic_results=_topic_results(codes)))
    return R_APT(throttle_time_ms=0, error_code=ErrorCode.NONE, results_by_transaction=results)


# --- AddOffsetsToTxn --------------------------------------------------------------------------------

async def handle_add_offsets_to_txn(ctx: RequestContext, request: Any) -> Any:
    v = ctx.api_version
    groups = ctx.broker.coordinators.get(GROUPS)
    if not request.transactional_id:
        code = ErrorCode.INVALID_REQUEST
    elif groups is None:
        code = ErrorCode.COORDINATOR_NOT_AVAILABLE
    else:
        tp = (GROUP_TOPIC, groups.partition_for(request.group_id))
        try:
            code = await _call(ctx, request.transactional_id, lambda s, t, now: s.add_partitions(
                request.transactional_id, request.producer_id, request.producer_epoch, {tp}, t, now))
        except CoordinatorError as exc:
            code = exc.code
    return AddOffsetsToTxnResponse(throttle_time_ms=0, error_code=_fenced(code, v, 2))


# --- EndTxn -----------------------------------------------------------------------------------------

async def handle_end_txn(ctx: RequestContext, request: Any) -> Any:
    v = ctx.api_version
    txn = _coordinator(ctx)
    client_tv = 2 if txn is not None and txn.uses_v2(v, 5) else 0
    pid_out, epoch_out = -1, -1
    if not request.transactional_id:
        code = ErrorCode.INVALID_REQUEST
    else:
        try:
            result = await _call(ctx, request.transactional_id, lambda s, t, now: s.end_txn(
                request.transactional_id, request.producer_id, request.producer_epoch, request.committed, t, now,
                client_tv))
        except CoordinatorError as exc:
            result = exc.code
        if isinstance(result, int):
            code = result
        else:
            # Transaction version 2: the producer id and epoch the client goes on with.
            code, pid_out, epoch_out = result.error, result.producer_id, result.producer_epoch
    return EndTxnResponse(throttle_time_ms=0, error_code=_abortable(_fenced(code, v, 2), v, 4),
                          producer_id=pid_out, producer_epoch=epoch_out)


# --- TxnOffsetCommit --------------------------------------------------------------------------------

def _txn_offset_error(request: Any, code: int) -> Any:
    R = TxnOffsetCommitResponse
    return R(throttle_time_ms=0, topics=[
        R.TxnOffsetCommitResponseTopic(name=t.name, partitions=[
            R.TxnOffsetCommitResponsePartition(partition_index=p.partition_index, error_code=code)
            for p in t.partitions])
        for t in request.topics])


def _txn_offset_codes(response: Any, v: int) -> Any:
    for topic in response.topics:
        for p in topic.partitions:
            p.error_code = _abortable(_fenced(p.error_code, v, 3), v, 4)
    return response


async def handle_txn_offset_commit(ctx: RequestContext, request: Any) -> Any:
    v = ctx.api_version
    groups = ctx.broker.coordinators.get(GROUPS)
    txn = _coordinator(ctx)
    if groups is None:
        return _txn_offset_error(request, ErrorCode.COORDINATOR_NOT_AVAILABLE)
    if not request.transactional_id:
        return _txn_offset_error(request, ErrorCode.INVALID_REQUEST)
    if txn is not None:
        group_partition = groups.partition_for(request.group_id)
        if txn.uses_v2(v, 5):
            # KIP-890 part 2: the group's offsets partition is added on the client's behalf.
            tp = (GROUP_TOPIC, group_partition)
            code = (await txn.add_partitions_implicitly(request.transactional_id, request.producer_id,
                                                        request.producer_epoch, [tp]))[tp]
            if code == ErrorCode.PRODUCER_FENCED:
                code = ErrorCode.INVALID_PRODUCER_EPOCH  # as Kafka's AddPartitionsToTxnManager answers
        else:
            # KIP-890 part 1: the group's offsets partition must be in the transaction.
            code = txn.verify_offsets_partition(request.transactional_id, request.producer_id,
                                                request.producer_epoch, group_partition)
        if code != ErrorCode.NONE:
            if code in (ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE):
                code = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS  # the group coordinator is fine: retry
            return _txn_offset_codes(_txn_offset_error(request, code), v)
    client_id, host = ctx.client_id or "", "/" + ctx.peer.rsplit(":", 1)[0]
    if ctx.broker.image.topic(groups.topic) is None:
        return _txn_offset_error(request, ErrorCode.NOT_COORDINATOR)
    try:
        response = await groups.call(request.group_id, lambda shard, token, now: shard.txn_offset_commit(
            request, v, client_id, host, token, now))
    except CoordinatorError as exc:
        return _txn_offset_error(request, exc.code)
    return _txn_offset_codes(response, v)


# --- WriteTxnMarkers --------------------------------------------------------------------------------

async def handle_write_txn_markers(ctx: RequestContext, request: Any) -> Any:
    R = WriteTxnMarkersResponse
    entries = [
        MarkerEntry(m.producer_id, m.producer_epoch, m.transaction_result, m.coordinator_epoch,
                    tuple((t.name, i) for t in m.topics for i in t.partition_indexes),
                    m.transaction_version if ctx.api_version >= 2 else 0)
        for m in request.markers
    ]
    results = await write_markers_locally(ctx.broker, entries, ctx.broker.config.get("request.timeout.ms"))
    markers = []
    for entry, codes in zip(entries, results):
        by_topic: dict[str, list[Any]] = {}
        for (topic, index), code in codes.items():
            by_topic.setdefault(topic, []).append(R.WritableTxnMarkerPartitionResult(partition_index=index,
                                                                                    error_code=code))
        markers.append(R.WritableTxnMarkerResult(producer_id=entry.producer_id, topics=[
            R.WritableTxnMarkerTopicResult(name=t, partitions=ps) for t, ps in by_topic.items()]))
    return R(markers=markers)


# --- DescribeTransactions / ListTransactions --------------------------------------------------------

async def handle_describe_transactions(ctx: RequestContext, request: Any) -> Any:
    R = DescribeTransactionsResponse
    states = []
    for txn_id in request.transactional_ids:
        state = R.TransactionState(error_code=ErrorCode.NONE, transactional_id=txn_id, transaction_state="",
                                   transaction_timeout_ms=0, transaction_start_time_ms=-1, producer_id=-1,
                                   producer_epoch=-1, topics=[])
        states.append(state)
        if not txn_id:
            state.error_code = ErrorCode.INVALID_REQUEST
            continue
        try:
            d = await _call(ctx, txn_id, lambda s, t, now, i=txn_id: s.describe_op(i, t, now))
        except CoordinatorError as exc:
            state.error_code = exc.code
            continue
        state.error_code = d.error
        if d.error != ErrorCode.NONE:
            continue
        by_topic: dict[str, list[int]] = {}
        for topic, index in d.partitions:
            by_topic.setdefault(topic, []).append(index)
        state.transaction_state = d.state
        state.transaction_timeout_ms = d.timeout_ms
        state.transaction_start_time_ms = d.start_ms
        state.producer_id = d.producer_id
        state.producer_epoch = d.producer_epoch
        state.topics = [R.TopicData(topic=t, partitions=ps) for t, ps in by_topic.items()]
    return R(throttle_time_ms=0, transaction_states=states)


async def handle_list_transactions(ctx: RequestContext, request: Any) -> Any:
    from pybroker.transactions.records import TxnState

    R = ListTransactionsResponse
    v = ctx.api_version
    response = R(throttle_time_ms=0, error_code=ErrorCode.NONE, unknown_state_filters=[], transaction_states=[])
    states = set()
    for name in request.state_filters:
        state = TxnState.from_display(name)
        if state is None:
            response.unknown_state_filters.append(name)
        else:
            states.add(state)
    pattern = None
    if v >= 2 and request.transactional_id_pattern:
        try:
            pattern = re.compile(request.transactional_id_pattern)
        except re.error:
            response.error_code = ErrorCode.INVALID_REGULAR_EXPRESSION
            return response
    duration = request.duration_filter if v >= 1 else -1
    txn = _coordinator(ctx)
    if txn is None:
        response.error_code = ErrorCode.COORDINATOR_NOT_AVAILABLE
        return response
    if any(st.loading for st in txn.runtime.shards.values()):
        response.error_code = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
        return response
    now = ctx.broker.clock_ms()
    pids = set(request.producer_id_filters)
    for shard in txn.runtime.loaded_shards():
        for txn_id, pid, state in shard.list_transactions(states, pids, duration, pattern, now):
            response.transaction_states.append(R.TransactionState(transactional_id=txn_id, producer_id=pid,
                                                                  transaction_state=state))
    return response


# --- DescribeProducers ------------------------------------------------------------------------------

async def handle_describe_producers(ctx: RequestContext, request: Any) -> Any:
    R = DescribeProducersResponse
    topics = []
    for t in request.topics:
        parts = []
        for index in t.partition_indexes:
            out = R.PartitionResponse(partition_index=index, error_code=ErrorCode.NONE, error_message=None,
                                      active_producers=[])
            parts.append(out)
            try:
                partition = ctx.broker.replicas.leader_partition(t.name, index)
            except PartitionError as exc:
                out.error_code = exc.code
                continue
            for pid, e in sorted(partition.log.producer_state.producers.items()):
                out.active_producers.append(R.ProducerState(
                    producer_id=pid, producer_epoch=e.epoch, last_sequence=e.last_seq,
                    last_timestamp=e.last_timestamp, coordinator_epoch=e.coordinator_epoch,
                    current_txn_start_offset=e.current_txn_first_offset
                    if e.current_txn_first_offset is not None else -1))
        topics.append(R.TopicResponse(name=t.name, partitions=parts))
    return R(throttle_time_ms=0, topics=topics)
