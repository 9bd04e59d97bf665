"""Helpers for the group request handlers and the coordinator runtime: splitting and assembling
OffsetFetch across versions, and the response an operation gets when its records cannot be
written."""

from __future__ import annotations

import copy
from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import (
    ConsumerGroupHeartbeatResponse,
    DeleteGroupsResponse,
    HeartbeatResponse,
    JoinGroupResponse,
    LeaveGroupResponse,
    OffsetCommitResponse,
    OffsetDeleteResponse,
    OffsetFetchRequest,
    OffsetFetchResponse,
    SyncGroupResponse,
    TxnOffsetCommitResponse,
)


def offset_fetch_groups(request: Any, version: int) -> list[tuple[Any, bool]]:
    """The per-group parts of an OffsetFetch request at any version, with require_stable.

    v8+ requests carry groups; v0-7 carry one group, rebuilt here as a v8 group part.
    """
    require_stable = bool(request.require_stable) if version >= 7 else False
    if version >= 8:
        return [(g, require_stable) for g in request.groups]
    R = OffsetFetchRequest
    topics = None
    if request.topics is not None:
        topics = [R.OffsetFetchRequestTopics(name=t.name, partition_indexes=list(t.partition_indexes))
                  for t in request.topics]
    return [(R.OffsetFetchRequestGroup(group_id=request.group_id, member_id=None, member_epoch=-1,
                                       topics=topics), require_stable)]


def offset_fetch_response(groups: list[Any], version: int) -> Any:
    """The OffsetFetch response at `version` from the shards' per-group parts."""
    R = OffsetFetchResponse
    if version >= 8:
        return R(throttle_time_ms=0, groups=groups)
    (group,) = groups
    error = group.error_code
    topics = []
    for t in group.topics:
        partitions = []
        for p in t.partitions:
            code = p.error_code
            if version < 2 and error != ErrorCode.NONE and code == ErrorCode.NONE:
                code = error  # before v2 there is no top-level error code
            partitions.append(R.OffsetFetchResponsePartition(
                partition_index=p.partition_index, committed_offset=p.committed_offset,
                committed_leader_epoch=p.committed_leader_epoch, metadata=p.metadata, error_code=code))
        topics.append(R.OffsetFetchResponseTopic(name=t.name, partitions=partitions))
    return R(throttle_time_ms=0, topics=topics, error_code=error)


def append_error(error: ErrorCode, *, offset_commit: bool = False) -> ErrorCode:
    """The error a client gets when the coordinator cannot write its records (Kafka's mapping)."""
    if error in (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.NOT_ENOUGH_REPLICAS,
                 ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, ErrorCode.REQUEST_TIMED_OUT):
        return ErrorCode.COORDINATOR_NOT_AVAILABLE
    if error in (ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.KAFKA_STORAGE_ERROR):
        return ErrorCode.NOT_COORDINATOR
    if error in (ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.RECORD_LIST_TOO_LARGE, ErrorCode.INVALID_FETCH_SIZE):
        return ErrorCode.INVALID_COMMIT_OFFSET_SIZE if offset_commit else ErrorCode.UNKNOWN_SERVER_ERROR
    return error


def failure_response(response: Any, error: ErrorCode) -> Any:
    """A copy of a shard response that reports `error` instead (its records were not written).

    `error` should already be mapped with `append_error`. Responses that are lists (ListGroups)
    or reads are returned unchanged: they wrote nothing.
    """
    if isinstance(response, (JoinGroupResponse, HeartbeatResponse, ConsumerGroupHeartbeatResponse)):
        out = copy.copy(response)
        out.error_code = error
        if isinstance(response, ConsumerGroupHeartbeatResponse):
            out.assignment = None
            out.error_message = None
        if isinstance(response, JoinGroupResponse):
            out.members = []
        return out
    if isinstance(response, SyncGroupResponse):
        return SyncGroupResponse(throttle_time_ms=0, error_code=error, protocol_type=None, protocol_name=None,
                                 assignment=b"")
    if isinstance(response, LeaveGroupResponse):
        out = copy.deepcopy(response)
        out.error_code = error
        for m in out.members:
            if m.error_code == ErrorCode.NONE:
                m.error_code = error
        return out
    if isinstance(response, (OffsetCommitResponse, TxnOffsetCommitResponse)):
        out = copy.deepcopy(response)
        for t in out.topics:
            for p in t.partitions:
                if p.error_code == ErrorCode.NONE:
                    p.error_code = error
        return out
    if isinstance(response, OffsetDeleteResponse):
        return OffsetDeleteResponse(error_code=error, throttle_time_ms=0, topics=[])
    if isinstance(response, DeleteGroupsResponse.DeletableGroupResult):
        return DeleteGroupsResponse.DeletableGroupResult(group_id=response.group_id, error_code=error)
    return response
