"""ElectLeaders (`kafka-leader-election`): preferred and unclean leader elections, decided by the
controller (pybroker.metadata.controller.elect_leaders) as a Kafka broker forwards them."""

from __future__ import annotations

from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import ElectLeadersResponse
from pybroker.server.dispatch import RequestContext


async def handle_elect_leaders(ctx: RequestContext, request: Any) -> Any:
    R = ElectLeadersResponse
    election_type = request.election_type if ctx.api_version >= 1 else 0  # v0: preferred only
    wanted = None
    if request.topic_partitions is not None:
        wanted = list(dict.fromkeys((t.topic, p) for t in request.topic_partitions for p in t.partitions))
    results = await ctx.broker.controller_call("elect_leaders", election_type, wanted)
    by_topic: dict[str, list[Any]] = {}
    for topic, partition, error in results:
        by_topic.setdefault(topic, []).append(R.PartitionResult(
            partition_id=partition, error_code=error.code, error_message=None if error.ok else error.message))
    return R(throttle_time_ms=0, error_code=ErrorCode.NONE, replica_election_results=[
        R.ReplicaElectionResult(topic=topic, partition_result=parts) for topic, parts in by_topic.items()])
