"""ListOffsets, OffsetForLeaderEpoch and DeleteRecords: offsets of partition logs."""

from __future__ import annotations

from typing import Any

from protocol.errors import CorruptRecordError, ErrorCode
from protocol.messages import DeleteRecordsResponse, ListOffsetsResponse, OffsetForLeaderEpochResponse
from protocol.records import decode_batch, iter_batches, record_timestamp
from pybroker.partitions import Partition, PartitionError
from pybroker.server.dispatch import RequestContext
from storage import OffsetOutOfRangeError

LATEST = -1
EARLIEST = -2
MAX_TIMESTAMP = -3
EARLIEST_LOCAL = -4
LATEST_TIERED = -5
EARLIEST_PENDING_UPLOAD = -6
READ_COMMITTED = 1


def _epoch_for(partition: Partition, offset: int) -> int:
    epoch = partition.log.leader_epochs.epoch_for_offset(offset)
    return -1 if epoch is None else epoch


def _record_for_timestamp(partition: Partition, batch_offset: int, target: int, limit: int) -> tuple[int, int] | None:
    """Refine a batch found by the time index to the first record with timestamp >= target."""
    try:
        result = partition.log.read(batch_offset, 1, max_offset=limit, min_one_batch=True)
    except OffsetOutOfRangeError:
        return None
    data = result.records
    for pos, _h in iter_batches(data):
        try:
            header, records = decode_batch(data, pos)
        except CorruptRecordError:
            return None
        for record in records:
            offset = header.base_offset + record.offset_delta
            ts = record_timestamp(header, record)
            if offset >= batch_offset and offset < limit and ts >= target:
                return ts, offset
    return None


def list_offset(partition: Partition, timestamp: int, isolation: int) -> tuple[int, int, int]:
    """(timestamp, offset, leader epoch) Kafka answers for one partition."""
    log = partition.log
    limit = partition.last_stable_offset() if isolation == READ_COMMITTED else partition.high_watermark
    if timestamp == LATEST:
        latest = log.leader_epochs.latest_epoch
        return -1, limit, -1 if latest is None else latest
    if timestamp in (EARLIEST, EARLIEST_LOCAL):
        start = log.log_start_offset
        return -1, start, _epoch_for(partition, start)
    if timestamp in (LATEST_TIERED, EARLIEST_PENDING_UPLOAD):
        return -1, -1, -1  # no tiered storage
    if timestamp == MAX_TIMESTAMP:
        found = log.latest_timestamp()
        if found is None:
            return -1, -1, -1
        ts, batch_last = found
        return ts, batch_last, _epoch_for(partition, batch_last)
    if timestamp < 0:
        raise PartitionError(ErrorCode.INVALID_REQUEST, f"unknown special timestamp {timestamp}")
    found = log.offset_for_timestamp(timestamp)
    if found is None:
        return -1, -1, -1
    _batch_ts, batch_offset = found
    if batch_offset >= limit:
        return -1, -1, -1
    exact = _record_for_timestamp(partition, batch_offset, timestamp, limit)
    if exact is None:
        return -1, -1, -1
    ts, offset = exact
    return ts, offset, _epoch_for(partition, offset)


def handle_list_offsets(ctx: RequestContext, request: Any) -> Any:
    v = ctx.api_version
    replicas = ctx.broker.replicas
    isolation = request.isolation_level if v >= 2 else 0
    topics = []
    for topic in request.topics:
        parts = []
        for p in topic.partitions:
            out = ListOffsetsResponse.ListOffsetsPartitionResponse(
                partition_index=p.partition_index, error_code=0, timestamp=-1, offset=-1, leader_epoch=-1
            )
            try:
                partition = replicas.leader_partition(topic.name, p.partition_index,
                                                      current_leader_epoch=p.current_leader_epoch)
                ts, offset, epoch = list_offset(partition, p.timestamp, isolation)
                if v == 0:
                    out.old_style_offsets = [offset] if offset >= 0 else []
                out.timestamp, out.offset, out.leader_epoch = ts, offset, epoch
            except PartitionError as exc:
                out.error_code = exc.code
            parts.append(out)
        topics.append(ListOffsetsResponse.ListOffsetsTopicResponse(name=topic.name, partitions=parts))
    return ListOffsetsResponse(throttle_time_ms=0, topics=topics)


def handle_offset_for_leader_epoch(ctx: RequestContext, request: Any) -> Any:
    replicas = ctx.broker.replicas
    R = OffsetForLeaderEpochResponse
    topics = []
    for topic in request.topics:
        parts = []
        for p in topic.partitions:
            out = R.EpochEndOffset(partition=p.partition, error_code=0, leader_epoch=-1, end_offset=-1)
            try:
                partition = replicas.leader_partition(topic.topic, p.partition,
                                                      current_leader_epoch=p.current_leader_epoch)
                epoch, end = partition.log.leader_epochs.end_offset_for_epoch(
                    p.leader_epoch, partition.log.log_end_offset
                )
                out.leader_epoch, out.end_offset = epoch, end
            except PartitionError as exc:
                out.error_code = exc.code
            parts.append(out)
        topics.append(R.OffsetForLeaderTopicResult(topic=topic.topic, partitions=parts))
    return R(throttle_time_ms=0, topics=topics)


def handle_delete_records(ctx: RequestContext, request: Any) -> Any:
    replicas = ctx.broker.replicas
    R = DeleteRecordsResponse
    topics = []
    for topic in request.topics:
        parts = []
        for p in topic.partitions:
            out = R.DeleteRecordsPartitionResult(partition_index=p.partition_index, low_watermark=-1, error_code=0)
            try:
                partition = replicas.leader_partition(topic.name, p.partition_index)
                hw = partition.high_watermark
                target = hw if p.offset == -1 else p.offset
                if target < 0 or target > hw:
                    raise PartitionError(ErrorCode.OFFSET_OUT_OF_RANGE)
                partition.log.delete_records_before(target)
                out.low_watermark = partition.log.log_start_offset
            except PartitionError as exc:
                out.error_code = exc.code
            parts.append(out)
        topics.append(R.DeleteRecordsTopicResult(name=topic.name, partitions=parts))
    return R(throttle_time_ms=0, topics=topics)
