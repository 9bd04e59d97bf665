"""Metadata, DescribeCluster and DescribeTopicPartitions: what the metadata image says."""

from __future__ import annotations

import uuid
from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import DescribeClusterResponse, DescribeTopicPartitionsResponse, MetadataResponse
from protocol.types import ZERO_UUID
from pybroker.server.dispatch import RequestContext

# Kafka's AclOperation codes; with no authorizer every operation is allowed.
_TOPIC_OPERATIONS = (3, 4, 5, 6, 7, 8, 10, 11)  # READ WRITE CREATE DELETE ALTER DESCRIBE DESCRIBE/ALTER_CONFIGS
_CLUSTER_OPERATIONS = (4, 5, 7, 8, 9, 10, 11, 12, 13)
ALL_TOPIC_OPERATIONS = sum(1 << op for op in _TOPIC_OPERATIONS)
ALL_CLUSTER_OPERATIONS = sum(1 << op for op in _CLUSTER_OPERATIONS)
UNKNOWN_OPERATIONS = -2147483648

INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state", "__share_group_state"})


def live_brokers(image: Any, listener: str) -> list[tuple[int, str, int, str | None]]:
    """(id, host, port, rack) of unfenced brokers reachable on `listener`."""
    out = []
    for broker in image.brokers.values():
        if broker.fenced:
            continue
        endpoint = broker.endpoint(listener)
        if endpoint is not None:
            out.append((broker.id, endpoint.host, endpoint.port, broker.rack))
    out.sort()
    return out


def _partitions(topic: Any, live: set[int]) -> list[Any]:
    P = MetadataResponse.MetadataResponsePartition
    out = []
    for index in sorted(topic.partitions):
        reg = topic.partitions[index]
        leader = reg.leader
        error = ErrorCode.NONE if leader >= 0 and leader in live else ErrorCode.LEADER_NOT_AVAILABLE
        out.append(
            P(
                error_code=error,
                partition_index=index,
                leader_id=leader,
                leader_epoch=reg.leader_epoch,
                replica_nodes=list(reg.replicas),
                isr_nodes=list(reg.isr),
                offline_replicas=[r for r in reg.replicas if r not in live],
            )
        )
    return out


def _topic_entry(topic: Any, live: set[int], include_ops: bool) -> Any:
    return MetadataResponse.MetadataResponseTopic(
        error_code=ErrorCode.NONE,
        name=topic.name,
        topic_id=topic.topic_id,
        is_internal=topic.name in INTERNAL_TOPICS,
        partitions=_partitions(topic, live),
        topic_authorized_operations=ALL_TOPIC_OPERATIONS if include_ops else UNKNOWN_OPERATIONS,
    )


def _error_topic(name: str | None, topic_id: uuid.UUID, code: int) -> Any:
    return MetadataResponse.MetadataResponseTopic(
        error_code=code, name=name, topic_id=topic_id, is_internal=False, partitions=[]
    )


def handle_metadata(ctx: RequestContext, request: Any) -> Any:
    broker = ctx.broker
    v = ctx.api_version
    image = broker.image
    wanted = request.topics
    if v == 0 and wanted == []:
        wanted = None  # v0 has no null: an empty list means every topic
    auto_create = (request.allow_auto_topic_creation if v >= 4 else True) and broker.config.get("auto.create.topics.enable")
    to_create: list[str] = []
    if wanted is not None:
        for t in wanted:
            name = t.name
            if t.topic_id != ZERO_UUID:
                continue  # looked up by id (the Java client leaves the name empty, not null)
            if name is not None and image.topic(name) is None and auto_create and not name.startswith("__"):
                to_create.append(name)
    if to_create:
        return _after_create(ctx, request, to_create)
    return _build(ctx, request, wanted)


async def _after_create(ctx: RequestContext, request: Any, names: list[str]) -> Any:
    broker = ctx.broker
    results = await broker.auto_create_topics(names)
    response = _build(ctx, request, request.topics)
    for topic in response.topics:
        code = results.get(topic.name)
        if code not in (None, ErrorCode.NONE, ErrorCode.TOPIC_ALREADY_EXISTS) and topic.error_code != ErrorCode.NONE:
            topic.error_code = code
    return response


def _build(ctx: RequestContext, request: Any, wanted: Any) -> Any:
    broker = ctx.broker
    v = ctx.api_version
    image = broker.image
    brokers = live_brokers(image, ctx.listener)
    live = {b[0] for b in brokers}
    include_ops = bool(getattr(request, "include_topic_authorized_operations", False))
    topics = []
    if wanted is None:
        for topic in sorted(image.topics_by_name.values(), key=lambda t: t.name):
            topics.append(_topic_entry(topic, live, include_ops))
    else:
        for t in wanted:
            # As Kafka: a topic id, when given, identifies the topic; the name is then ignored.
            if t.topic_id != ZERO_UUID or t.name is None:
                topic = image.topic_by_id(t.topic_id)
                if topic is None:
                    topics.append(_error_topic(None, t.topic_id, ErrorCode.UNKNOWN_TOPIC_ID))
                    continue
            else:
                topic = image.topic(t.name)
                if topic is None:
                    code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                    if not broker.valid_topic_name(t.name):
                        code = ErrorCode.INVALID_TOPIC_EXCEPTION
                    topics.append(_error_topic(t.name, ZERO_UUID, code))
                    continue
            topics.append(_topic_entry(topic, live, include_ops))
    return MetadataResponse(
        throttle_time_ms=0,
        brokers=[
            MetadataResponse.MetadataResponseBroker(node_id=i, host=h, port=p, rack=r) for i, h, p, r in brokers
        ],
        cluster_id=image.cluster_id,
        # KRaft brokers name themselves: clients cannot reach the quorum controllers anyway.
        controller_id=broker.node_id,
        topics=topics,
        cluster_authorized_operations=ALL_CLUSTER_OPERATIONS
        if v <= 10 and getattr(request, "include_cluster_authorized_operations", False) else UNKNOWN_OPERATIONS,
        error_code=ErrorCode.NONE,
    )


def handle_describe_cluster(ctx: RequestContext, request: Any) -> Any:
    broker = ctx.broker
    image = broker.image
    endpoint_type = request.endpoint_type if ctx.api_version >= 1 else 1
    R = DescribeClusterResponse
    if endpoint_type == 2:
        # Controllers: this node when it is one (combined mode).
        brokers = [R.DescribeClusterBroker(broker_id=broker.node_id, host=host, port=port)
                   for _name, host, port in broker.controller_endpoints()[:1]]
        controller_id = image.controller_id
    elif endpoint_type == 1:
        include_fenced = bool(getattr(request, "include_fenced_brokers", False))
        brokers = []
        for reg in sorted(image.brokers.values(), key=lambda b: b.id):
            if reg.fenced and not include_fenced:
                continue
            endpoint = reg.endpoint(ctx.listener)
            if endpoint is None:
                continue
            brokers.append(R.DescribeClusterBroker(broker_id=reg.id, host=endpoint.host, port=endpoint.port,
                                                   rack=reg.rack, is_fenced=reg.fenced))
        controller_id = broker.node_id
    else:
        return R(error_code=ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, error_message="unknown endpoint type",
                 endpoint_type=endpoint_type, cluster_id=image.cluster_id)
    return R(
        throttle_time_ms=0,
        error_code=ErrorCode.NONE,
        endpoint_type=endpoint_type,
        cluster_id=image.cluster_id,
        controller_id=controller_id,
        brokers=brokers,
        cluster_authorized_operations=ALL_CLUSTER_OPERATIONS
        if request.include_cluster_authorized_operations else UNKNOWN_OPERATIONS,
    )


def handle_describe_topic_partitions(ctx: RequestContext, request: Any) -> Any:
    """Topics in name order, partitions paginated by response_partition_limit with a cursor."""
    image = ctx.broker.image
    R = DescribeTopicPartitionsResponse
    live = {b[0] for b in live_brokers(image, ctx.listener)}
    limit = max(1, request.response_partition_limit)
    if request.topics:
        names = sorted({t.name for t in request.topics})
    else:
        names = sorted(image.topics_by_name)
    cursor = request.cursor
    if cursor is not None:
        names = [n for n in names if n >= cursor.topic_name]
    topics = []
    next_cursor = None
    budget = limit
    for name in names:
        topic = image.topic(name)
        if topic is None:
            topics.append(R.DescribeTopicPartitionsResponseTopic(
                error_code=ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name=name, topic_id=ZERO_UUID, partitions=[]))
            continue
        start = cursor.partition_index if cursor is not None and name == cursor.topic_name else 0
        indexes = [i for i in sorted(topic.partitions) if i >= start]
        if budget <= 0:
            next_cursor = R.Cursor(topic_name=name, partition_index=indexes[0] if indexes else 0)
            break
        take, rest = indexes[:budget], indexes[budget:]
        budget -= len(take)
        parts = []
        for i in take:
            reg = topic.partitions[i]
            parts.append(R.DescribeTopicPartitionsResponsePartition(
                error_code=ErrorCode.NONE if reg.leader in live else ErrorCode.LEADER_NOT_AVAILABLE,
                partition_index=i, leader_id=reg.leader, leader_epoch=reg.leader_epoch,
                replica_nodes=list(reg.replicas), isr_nodes=list(reg.isr),
                # Kafka always sends lists here (empty without ELR), and its Java admin client
                # reads them without a null check.
                eligible_leader_replicas=list(reg.elr or ()),
                last_known_elr=list(reg.last_known_elr or ()),
                offline_replicas=[r for r in reg.replicas if r not in live],
            ))
        topics.append(R.DescribeTopicPartitionsResponseTopic(
            error_code=ErrorCode.NONE, name=name, topic_id=topic.topic_id, is_internal=name in INTERNAL_TOPICS,
            partitions=parts, topic_authorized_operations=ALL_TOPIC_OPERATIONS))
        if rest:
            next_cursor = R.Cursor(topic_name=name, partition_index=rest[0])
            break
    return R(throttle_time_ms=0, topics=topics, next_cursor=next_cursor)
