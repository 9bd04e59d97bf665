"""Consumer group requests: routed by group id to the group coordinator shard that owns the
group, whose answers (possibly parked until a rebalance completes) come back as responses."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from protocol.errors import ErrorCode
from protocol.messages import (
    ConsumerGroupDescribeResponse,
    ConsumerGroupHeartbeatResponse,
    DeleteGroupsResponse,
    DescribeGroupsResponse,
    HeartbeatResponse,
    JoinGroupResponse,
    LeaveGroupResponse,
    ListGroupsResponse,
    OffsetCommitResponse,
    OffsetDeleteResponse,
    OffsetFetchResponse,
    SyncGroupResponse,
)
from pybroker.coordinator import CoordinatorError
from pybroker.groups.api import offset_fetch_groups, offset_fetch_response
from pybroker.server.dispatch import RequestContext

GROUPS = 0


def _host(ctx: RequestContext) -> str:
    """The client host as Kafka shows it in DescribeGroups: "/" and the address."""
    return "/" + ctx.peer.rsplit(":", 1)[0]


def _runtime(ctx: RequestContext) -> Any:
    return ctx.broker.coordinators[GROUPS]


async def _call(ctx: RequestContext, group_id: str, method: str, arg: Any, **kwargs: Any) -> Any:
    """Run one shard method for `group_id`; CoordinatorError when the shard is not here."""
    runtime = _runtime(ctx)
    client_id, host, version = ctx.client_id or "", _host(ctx), ctx.api_version

    def op(shard: Any, token: Any, now: int) -> Any:
        return getattr(shard, method)(arg, version, client_id, host, token, now, **kwargs)

    if ctx.broker.image.topic(runtime.topic) is None:
        raise CoordinatorError(ErrorCode.NOT_COORDINATOR)
    return await runtime.call(group_id, op)


async def _guarded(ctx: RequestContext, group_id: str, method: str, arg: Any, on_error: Callable[[int], Any],
                   **kwargs: Any) -> Any:
    try:
        return await _call(ctx, group_id, method, arg, **kwargs)
    except CoordinatorError as exc:
        return on_error(exc.code)


# --- classic protocol -----------------------------------------------------------------------------

async def handle_join_group(ctx: RequestContext, request: Any) -> Any:
    return await _guarded(ctx, request.group_id, "join_group", request, lambda code: JoinGroupResponse(
        error_code=code, generation_id=-1, protocol_name=None if ctx.api_version >= 7 else "",
        leader="", member_id=request.member_id, members=[]))


async def handle_sync_group(ctx: RequestContext, request: Any) -> Any:
    return await _guarded(ctx, request.group_id, "sync_group", request,
                          lambda code: SyncGroupResponse(error_code=code, assignment=b""))


async def handle_heartbeat(ctx: RequestContext, request: Any) -> Any:
    return await _guarded(ctx, request.group_id, "heartbeat", request, lambda code: HeartbeatResponse(error_code=code))


async def handle_leave_group(ctx: RequestContext, request: Any) -> Any:
    return await _guarded(ctx, request.group_id, "leave_group", request,
                          lambda code: LeaveGroupResponse(error_code=code, members=[]))


# --- offsets -----------------------------------------------------------------------------------------

def _commit_error(request: Any, code: int) -> Any:
    R = OffsetCommitResponse
    return R(topics=[
        R.OffsetCommitResponseTopic(
            name=t.name, topic_id=t.topic_id,
            partitions=[R.OffsetCommitResponsePartition(partition_index=p.partition_index, error_code=code)
                        for p in t.partitions])
        for t in request.topics
    ])


async def handle_offset_commit(ctx: RequestContext, request: Any) -> Any:
    return await _guarded(ctx, request.group_id, "offset_commit", request, lambda code: _commit_error(request, code))


async def _fetch_group(ctx: RequestContext, group: Any, require_stable: bool) -> Any:
    try:
        return await _call(ctx, group.group_id, "offset_fetch", group, require_stable=require_stable)
    except CoordinatorError as exc:
        return OffsetFetchResponse.OffsetFetchResponseGroup(group_id=group.group_id, topics=[], error_code=exc.code)


async def handle_offset_fetch(ctx: RequestContext, request: Any) -> Any:
    # v1-7 name one group at the top level: the shard answers in the v8 per-group shape and
    # the group API module turns that back into the request's version.
    parts = offset_fetch_groups(request, ctx.api_version)
    groups = await asyncio.gather(*(_fetch_group(ctx, g, stable) for g, stable in parts))
    return offset_fetch_response(list(groups), ctx.api_version)


async def handle_offset_delete(ctx: RequestContext, request: Any) -> Any:
    return await _guarded(ctx, request.group_id, "offset_delete", request,
                          lambda code: OffsetDeleteResponse(error_code=code, topics=[]))


# --- admin ---------------------------------------------------------------------------------------------

async def handle_list_groups(ctx: RequestContext, request: Any) -> Any:
    runtime = _runtime(ctx)
    R = ListGroupsResponse
    if ctx.broker.image.topic(runtime.topic) is None:
        return R(throttle_time_ms=0, error_code=ErrorCode.NONE, groups=[])
    listed: list[Any] = []
    error = ErrorCode.NONE
    client_id, host, version = ctx.client_id or "", _host(ctx), ctx.api_version
    for partition in sorted(runtime.shards):
        try:
            listed.extend(await runtime.call_partition(
                partition, lambda shard, token, now: shard.list_groups(request, version, client_id, host, token, now)))
        except CoordinatorError as exc:
            error = exc.code
    return R(throttle_time_ms=0, error_code=error, groups=listed)


async def handle_describe_groups(ctx: RequestContext, request: Any) -> Any:
    R = DescribeGroupsResponse

    async def one(group_id: str) -> Any:
        try:
            return await _call(ctx, group_id, "describe_groups", group_id)
        except CoordinatorError as exc:
            return R.DescribedGroup(error_code=exc.code, group_id=group_id, group_state="", protocol_type="",
                                    protocol_data="", members=[])

    groups = await asyncio.gather(*(one(g) for g in request.groups))
    if ctx.api_version >= 3 and request.include_authorized_operations:
        from pybroker.handlers.metadata import ALL_TOPIC_OPERATIONS

        for g in groups:
            g.authorized_operations = ALL_TOPIC_OPERATIONS
    return R(throttle_time_ms=0, groups=list(groups))


async def handle_delete_groups(ctx: RequestContext, request: Any) -> Any:
    R = DeleteGroupsResponse

    async def one(group_id: str) -> Any:
        try:
            return await _call(ctx, group_id, "delete_groups", group_id)
        except CoordinatorError as exc:
            return R.DeletableGroupResult(group_id=group_id, error_code=exc.code)

    return R(throttle_time_ms=0, results=list(await asyncio.gather(*(one(g) for g in request.groups_names))))


# --- consumer protocol (KIP-848) ---------------------------------------------------------------------

async def handle_consumer_group_heartbeat(ctx: RequestContext, request: Any) -> Any:
    return await _guarded(ctx, request.group_id, "consumer_group_heartbeat", request,
                          lambda code: ConsumerGroupHeartbeatResponse(error_code=code, member_epoch=-1,
                                                                      heartbeat_interval_ms=0))


async def handle_consumer_group_describe(ctx: RequestContext, request: Any) -> Any:
    R = ConsumerGroupDescribeResponse

    async def one(group_id: str) -> Any:
        try:
            return await _call(ctx, group_id, "consumer_group_describe", group_id)
        except CoordinatorError as exc:
            return R.DescribedGroup(error_code=exc.code, group_id=group_id, group_state="", group_epoch=-1,
                                    assignment_epoch=-1, assignor_name="", members=[])

    return R(throttle_time_ms=0, groups=list(await asyncio.gather(*(one(g) for g in request.group_ids))))
