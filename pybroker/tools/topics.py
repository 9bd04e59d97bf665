"""`pybroker topics`: create, list, describe, alter and delete topics, as kafka-topics does."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, TextIO

from protocol import messages as m
from protocol.errors import ErrorCode
from pybroker.tools.client import Cluster, KafkaError
from pybroker.tools.common import ToolError
from pybroker.tools.protocol import check

CONFIG_SOURCE_DEFAULT = 5
RESOURCE_TOPIC = 2
OP_SET, OP_DELETE = 0, 1


def parse_configs(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or ():
        # kafka-topics also accepts several comma-separated pairs in one --config.
        for part in _split_pairs(item):
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise ToolError(f"invalid config {part!r}: expected key=value")
            out[key.strip()] = value.strip()
    return out


def _split_pairs(text: str) -> list[str]:
    # Commas inside a value (list configs such as cleanup.policy=compact,delete) stay with it
    # unless what follows looks like another key=value.
    parts: list[str] = []
    for piece in text.split(","):
        if parts and "=" not in piece:
            parts[-1] += "," + piece
        else:
            parts.append(piece)
    return parts


def _names(cluster: Cluster, pattern: str | None, *, exclude_internal: bool = False) -> list[str]:
    response = cluster.refresh(all_topics=True)
    names = sorted(t.name for t in response.topics
                   if t.error_code == 0 and not (exclude_internal and t.is_internal))
    if pattern is None:
        return names
    if pattern in names:
        return [pattern]
    try:
        regex = re.compile(pattern)
    except re.error:
        return []
    return [n for n in names if regex.fullmatch(n)]


def create(cluster: Cluster, args: argparse.Namespace, out: TextIO) -> int:
    if not args.topic:
        raise ToolError("--topic is required to create a topic")
    topic = m.CreateTopicsRequest.CreatableTopic(
        name=args.topic,
        num_partitions=args.partitions if args.partitions is not None else -1,
        replication_factor=args.replication_factor if args.replication_factor is not None else -1,
        assignments=[],
        configs=[m.CreateTopicsRequest.CreatableTopicConfig(name=k, value=v)
                 for k, v in parse_configs(args.topic_config).items()],
    )
    request = m.CreateTopicsRequest(topics=[topic], timeout_ms=int(cluster.timeout * 1000), validate_only=False)
    response = cluster.admin_connection().request(19, request)
    result = response.topics[0]
    if result.error_code == ErrorCode.TOPIC_ALREADY_EXISTS and args.if_not_exists:
        return 0
    check(result.error_code, result.error_message)
    print(f"Created topic {args.topic}.", file=out)
    return 0


def list_topics(cluster: Cluster, args: argparse.Namespace, out: TextIO) -> int:
    for name in _names(cluster, args.topic, exclude_internal=args.exclude_internal):
        print(name, file=out)
    return 0


def describe_configs(cluster: Cluster, names: list[str]) -> dict[str, list[Any]]:
    """Each topic's config entries that are not plain defaults (what kafka-topics prints)."""
    if not names:
        return {}
    conn = cluster.admin_connection()
    version = conn.version(32)
    request = m.DescribeConfigsRequest(
        resources=[m.DescribeConfigsRequest.DescribeConfigsResource(resource_type=RESOURCE_TOPIC, resource_name=n,
                                                                    configuration_keys=None) for n in names],
        include_synonyms=False, include_documentation=False,
    )
    response = conn.request(32, request, version=version)
    out: dict[str, list[Any]] = {}
    for result in response.results:
        if result.error_code:
            out[result.resource_name] = []
            continue
        entries = []
        for c in result.configs:
            default = c.is_default if version == 0 else c.config_source == CONFIG_SOURCE_DEFAULT
            if not default:
                entries.append(c)
        out[result.resource_name] = sorted(entries, key=lambda c: c.name)
    return out


def describe(cluster: Cluster, args: argparse.Namespace, out: TextIO) -> int:
    names = _names(cluster, args.topic, exclude_internal=args.exclude_internal)
    if args.topic and not names:
        raise ToolError(f"Topic '{args.topic}' does not exist as expected")
    response = cluster.refresh(names) if names else None
    topics = {t.name: t for t in response.topics} if response is not None else {}
    configs = describe_configs(cluster, names)
    live = set(cluster.brokers)
    for name in names:
        t = topics.get(name)
        if t is None or t.error_code:
            continue
        entries = configs.get(name, [])
        if args.topics_with_overrides and not any(c.config_source == 1 for c in entries):
            continue
        partitions = sorted(t.partitions, key=lambda p: p.partition_index)
        rf = len(partitions[0].replica_nodes) if partitions else 0
        shown = []
        for p in partitions:
            under = len(p.isr_nodes) < len(p.replica_nodes)
            unavailable = p.leader_id < 0 or p.leader_id not in live
            if args.under_replicated_partitions and not under:
                continue
            if args.unavailable_partitions and not unavailable:
                continue
            shown.append(p)
        filtering = args.under_replicated_partitions or args.unavailable_partitions
        if filtering and not shown:
            continue
        if not filtering:
            config_text = ",".join(f"{c.name}={'' if c.value is None or c.is_sensitive else c.value}" for c in entries)
            topic_id = _kafka_uuid(t.topic_id) if t.topic_id is not None else ""
            print(f"Topic: {name}\tTopicId: {topic_id}\tPartitionCount: {len(partitions)}\t"
                  f"ReplicationFactor: {rf}\tConfigs: {config_text}", file=out)
        for p in shown:
            leader = "none" if p.leader_id < 0 else str(p.leader_id)
            print(f"\tTopic: {name}\tPartition: {p.partition_index}\tLeader: {leader}\t"
                  f"Replicas: {_ids(p.replica_nodes)}\tIsr: {_ids(p.isr_nodes)}"
                  + (f"\tOffline: {_ids(p.offline_replicas)}" if p.offline_replicas else ""), file=out)
    return 0


def _ids(nodes: list[int]) -> str:
    return ",".join(str(n) for n in nodes)


def _kafka_uuid(value: Any) -> str:
    """Kafka prints topic ids as URL-safe base64 without padding."""
    import base64

    return base64.urlsafe_b64encode(value.bytes).decode().rstrip("=")


def alter(cluster: Cluster, args: argparse.Namespace, out: TextIO) -> int:
    if not args.topic:
        raise ToolError("--topic is required to alter a topic")
    names = _names(cluster, args.topic)
    if not names:
        raise ToolError(f"Topic '{args.topic}' does not exist as expected")
    sets = parse_configs(args.topic_config)
    deletes = list(args.delete_config or ())
    if args.partitions is None and not sets and not deletes:
        raise ToolError("--alter needs --partitions, --config or --delete-config")
    conn = cluster.admin_connection()
    if args.partitions is not None:
        request = m.CreatePartitionsRequest(
            topics=[m.CreatePartitionsRequest.CreatePartitionsTopic(name=n, count=args.partitions, assignments=None)
                    for n in names],
            timeout_ms=int(cluster.timeout * 1000), validate_only=False,
        )
        response = conn.request(37, request)
        for r in response.results:
            check(r.error_code, r.error_message)
    if sets or deletes:
        _alter_configs(cluster, names, sets, deletes)
        for n in names:
            print(f"Completed updating config for topic {n}.", file=out)
    return 0


def _alter_configs(cluster: Cluster, names: list[str], sets: dict[str, str], deletes: list[str]) -> None:
    conn = cluster.admin_connection()
    if conn.supports(44):
        ops = [m.IncrementalAlterConfigsRequest.AlterableConfig(name=k, config_operation=OP_SET, value=v)
               for k, v in sets.items()]
        ops += [m.IncrementalAlterConfigsRequest.AlterableConfig(name=k, config_operation=OP_DELETE, value=None)
                for k in deletes]
        request = m.IncrementalAlterConfigsRequest(
            resources=[m.IncrementalAlterConfigsRequest.AlterConfigsResource(
                resource_type=RESOURCE_TOPIC, resource_name=n, configs=ops) for n in names],
            validate_only=False,
        )
        response = conn.request(44, request)
        for r in response.responses:
            check(r.error_code, r.error_message)
        return
    # Older brokers: AlterConfigs replaces a topic's whole override set, so merge first.
    current = describe_configs(cluster, names)
    resources = []
    for n in names:
        merged = {c.name: c.value for c in current.get(n, []) if c.config_source == 1}
        merged.update(sets)
        for k in deletes:
            merged.pop(k, None)
        resources.append(m.AlterConfigsRequest.AlterConfigsResource(
            resource_type=RESOURCE_TOPIC, resource_name=n,
            configs=[m.AlterConfigsRequest.AlterableConfig(name=k, value=v) for k, v in merged.items()]))
    response = conn.request(33, m.AlterConfigsRequest(resources=resources, validate_only=False))
    for r in response.responses:
        check(r.error_code, r.error_message)


def delete(cluster: Cluster, args: argparse.Namespace, out: TextIO) -> int:
    if not args.topic:
        raise ToolError("--topic is required to delete a topic")
    names = _names(cluster, args.topic)
    if not names:
        if args.if_exists:
            return 0
        raise ToolError(f"Topic '{args.topic}' does not exist as expected")
    conn = cluster.admin_connection()
    request = m.DeleteTopicsRequest(
        topics=[m.DeleteTopicsRequest.DeleteTopicState(name=n) for n in names],
        topic_names=names, timeout_ms=int(cluster.timeout * 1000),
    )
    response = conn.request(20, request)
    for r in response.responses:
        check(r.error_code, r.error_message)
    return 0


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    actions = [a for a in ("create", "list", "describe", "alter", "delete") if getattr(args, a)]
    if len(actions) != 1:
        raise ToolError("exactly one of --create, --list, --describe, --alter, --delete is required")
    with Cluster(args.bootstrap_server, timeout=args.timeout, client_id=args.client_id) as cluster:
        try:
            return {"create": create, "list": list_topics, "describe": describe, "alter": alter,
                    "delete": delete}[actions[0]](cluster, args, out)
        except KafkaError as exc:
            raise ToolError(f"Error while executing topic command : {exc.detail or exc.code.message} "
                            f"({exc.code.name})") from None

