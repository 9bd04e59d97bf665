"""FindCoordinator: which broker coordinates a group or a transactional id."""

from __future__ import annotations

from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import FindCoordinatorResponse
from pybroker.server.dispatch import RequestContext

GROUP = 0
TRANSACTION = 1
SHARE = 2


async def _locate(ctx: RequestContext, key: str, key_type: int) -> tuple[int, int, str, int, str | None]:
    """(error, node id, host, port, message) for one key."""
    broker = ctx.broker
    runtime = broker.coordinators.get(key_type)
    if runtime is None:
        return ErrorCode.INVALID_REQUEST, -1, "", -1, f"unsupported coordinator key type {key_type}"
    if not key:
        return ErrorCode.INVALID_REQUEST, -1, "", -1, "the coordinator key must not be empty"
    if not await runtime.ensure_topic():
        return ErrorCode.COORDINATOR_NOT_AVAILABLE, -1, "", -1, None
    node = runtime.coordinator_for(key)
    reg = broker.image.broker(node) if node >= 0 else None
    endpoint = reg.endpoint(ctx.listener) if reg is not None and not reg.fenced else None
    if endpoint is None:
        return ErrorCode.COORDINATOR_NOT_AVAILABLE, -1, "", -1, None
    return ErrorCode.NONE, node, endpoint.host, endpoint.port, None


async def handle_find_coordinator(ctx: RequestContext, request: Any) -> Any:
    R = FindCoordinatorResponse
    if ctx.api_version < 4:
        key_type = request.key_type if ctx.api_version >= 1 else GROUP
        code, node, host, port, message = await _locate(ctx, request.key, key_type)
        return R(throttle_time_ms=0, error_code=code, error_message=message, node_id=node, host=host, port=port)
    coordinators = []
    for key in request.coordinator_keys:
        code, node, host, port, message = await _locate(ctx, key, request.key_type)
        coordinators.append(R.Coordinator(key=key, node_id=node, host=host, port=port, error_code=code,
                                          error_message=message))
    return R(throttle_time_ms=0, coordinators=coordinators)
