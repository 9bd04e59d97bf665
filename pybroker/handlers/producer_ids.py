"""InitProducerId: producer ids and epochs for idempotent producers (transactional ids go
to the transaction coordinator)."""

from __future__ import annotations

from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import InitProducerIdResponse
from pybroker.producer_ids import ProducerIdError
from pybroker.server.dispatch import RequestContext


async def handle_init_producer_id(ctx: RequestContext, request: Any) -> Any:
    broker = ctx.broker
    if request.transactional_id is not None:
        return await broker.init_transactional_producer(ctx, request)
    # Without a transactional id Kafka always hands out a fresh producer id (KIP-360 included).
    try:
        pid = await broker.producer_ids.next_id()
    except ProducerIdError as exc:
        return InitProducerIdResponse(throttle_time_ms=0, error_code=exc.code, producer_id=-1, producer_epoch=-1)
    return InitProducerIdResponse(throttle_time_ms=0, error_code=ErrorCode.NONE, producer_id=pid, producer_epoch=0)
