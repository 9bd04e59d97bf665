"""CreateTopics, DeleteTopics and CreatePartitions: requests the controller turns into
metadata records. Each answers once its records are committed and applied locally."""

from __future__ import annotations

from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import CreatePartitionsResponse, CreateTopicsResponse, DeleteTopicsResponse
from protocol.types import ZERO_UUID
from pybroker.config import effective_topic_config
from pybroker.metadata.requests import (
    CreatableTopic,
    CreatePartitionsRequest,
    CreatePartitionsTopic,
    CreateTopicsRequest,
    DeleteTopicsRequest,
)
from pybroker.server.dispatch import RequestContext


async def handle_create_topics(ctx: RequestContext, request: Any) -> Any:
    broker = ctx.broker
    v = ctx.api_version
    R = CreateTopicsResponse
    seen: dict[str, int] = {}
    for t in request.topics:
        seen[t.name] = seen.get(t.name, 0) + 1
    creatable = []
    for t in request.topics:
        if seen[t.name] > 1:
            continue
        creatable.append(
            CreatableTopic(
                name=t.name,
                num_partitions=t.num_partitions,
                replication_factor=t.replication_factor,
                assignments={a.partition_index: list(a.broker_ids) for a in t.assignments},
                configs={c.name: c.value for c in t.configs},
            )
        )
    results = {}
    if creatable:
        for r in await broker.controller_call("create_topics", CreateTopicsRequest(creatable, request.validate_only)):
            results[r.name] = r
    out = []
    done: set[str] = set()
    for t in request.topics:
        if t.name in done:
            continue
        done.add(t.name)
        if seen[t.name] > 1:
            out.append(R.CreatableTopicResult(name=t.name, error_code=ErrorCode.INVALID_REQUEST,
                                              error_message="Duplicate topic name in the request"))
            continue
        r = results[t.name]
        entry = R.CreatableTopicResult(
            name=t.name,
            topic_id=r.topic_id,
            error_code=r.error.code,
            error_message=r.error.message if not r.error.ok else None,
            num_partitions=r.num_partitions,
            replication_factor=r.replication_factor,
            configs=None,
        )
        if r.error.ok and v >= 5:
            view = effective_topic_config(r.configs, broker.config)
            entry.configs = [
                R.CreatableTopicConfigs(
                    name=e.name, value=e.value_str, read_only=e.read_only, config_source=int(e.source),
                    is_sensitive=e.sensitive,
                )
                for e in view.describe()
            ]
        out.append(entry)
    return R(throttle_time_ms=0, topics=out)


async def handle_delete_topics(ctx: RequestContext, request: Any) -> Any:
    broker = ctx.broker
    v = ctx.api_version
    R = DeleteTopicsResponse
    if v >= 6:
        names = [t.name for t in request.topics if t.name is not None]
        ids = [t.topic_id for t in request.topics if t.name is None]
    else:
        names = list(request.topic_names)
        ids = []
    results = await broker.controller_call("delete_topics", DeleteTopicsRequest(names=names, topic_ids=ids))
    out = [
        R.DeletableTopicResult(
            name=r.name, topic_id=r.topic_id if r.topic_id is not None else ZERO_UUID, error_code=r.error.code,
            error_message=r.error.message if not r.error.ok else None,
        )
        for r in results
    ]
    return R(throttle_time_ms=0, responses=out)


async def handle_create_partitions(ctx: RequestContext, request: Any) -> Any:
    broker = ctx.broker
    R = CreatePartitionsResponse
    topics = [
        CreatePartitionsTopic(
            name=t.name,
            count=t.count,
            assignments=[list(a.broker_ids) for a in t.assignments] if t.assignments is not None else None,
        )
        for t in request.topics
    ]
    results = await broker.controller_call("create_partitions", CreatePartitionsRequest(topics, request.validate_only))
    return R(
        throttle_time_ms=0,
        results=[
            R.CreatePartitionsTopicResult(name=r.name, error_code=r.error.code,
                                          error_message=r.error.message if not r.error.ok else None)
            for r in results
        ],
    )
