"""The quorum controller: validation and record generation over a metadata image, and the thin
async driver that appends the records through raft and answers once they are committed.

The operations are pure functions of (image, request, context): they return the records to
append and the result to give back, read no clock and do no I/O, so that they are tested
with fixed images. Kafka's error codes and messages throughout.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterable, Mapping, TypeVar

from protocol.errors import ErrorCode
from pybroker.metadata import features as feat
from pybroker.metadata import records as r
from pybroker.metadata.image import (
    NO_LEADER, UNASSIGNED_DIRECTORY, BrokerRegistration, ConfigResource, ConfigResourceType,
    MetadataDelta, MetadataImage, PartitionRegistration, Provenance, image_from_records,
)
from pybroker.metadata.placement import PlacementError, place_replicas
from pybroker.metadata.requests import (
    NO_ERROR, AlterableConfig, AlterConfigOp, AlterConfigsResource, AlterConfigsResult, ApiError,
    BrokerHeartbeatReply, BrokerHeartbeatRequest, BrokerRegistrationReply, BrokerRegistrationRequest,
    CreatePartitionsRequest, CreatePartitionsResult, CreateTopicResult, CreateTopicsRequest,
    DeleteTopicResult, DeleteTopicsRequest, FeatureUpdate, IncrementalAlterConfigsResource, ProducerIdsBlock,
    UpgradeType,
)
from raft import CommittedBatch, LeaderAndEpoch, NotLeaderError, RaftClient

logger = logging.getLogger(__name__)

T = TypeVar("T")

PRODUCER_ID_BLOCK_SIZE = 1000
MAX_TOPIC_NAME_LENGTH = 249
# A guard against requests that would allocate absurd amounts of metadata in one batch.
MAX_PARTITIONS_PER_REQUEST = 1_000_000

_LEGAL_TOPIC_CHARS = re.compile(r"^[a-zA-Z0-9._-]+$")
_INT64_MAX = (1 << 63) - 1


# --- configuration and context -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ControllerConfig:
    """The broker configs the controller obeys, under Kafka's names."""

    num_partitions: int = 1  # num.partitions
    default_replication_factor: int = 1  # default.replication.factor
    delete_topic_enable: bool = True  # delete.topic.enable
    broker_session_timeout_ms: int = 9000  # broker.session.timeout.ms
    bootstrap_features: Mapping[str, int] = field(default_factory=lambda: dict(feat.DEFAULT_BOOTSTRAP_FEATURES))
    broker_config: Any = None  # the BrokerConfig, for topic-config defaults in cross checks

    @classmethod
    def from_broker_config(cls, cfg: Any) -> ControllerConfig:
        """From a pybroker.config.BrokerConfig or a mapping of Kafka property names."""
        def get(name: str, default: Any) -> Any:
            value = cfg.get(name) if cfg is not None else None
            if value is None:
                return default
            if isinstance(default, bool):
                return value if isinstance(value, bool) else str(value).strip().lower() == "true"
            return int(value)

        return cls(
            num_partitions=get("num.partitions", 1),
            default_replication_factor=get("default.replication.factor", 1),
            delete_topic_enable=get("delete.topic.enable", True),
            broker_session_timeout_ms=get("broker.session.timeout.ms", 9000),
            broker_config=cfg if hasattr(cfg, "topic_default") else None,
        )


@dataclass(slots=True)
class ControllerContext:
    """Everything an operation may depend on besides the image and the request: the time,
    the offset its first record will get, and a random source (topic ids, placement)."""

    now_ms: int
    next_offset: int
    rng: random.Random
    config: ControllerConfig = field(default_factory=ControllerConfig)


@dataclass(slots=True)
class ControllerResult(Generic[T]):
    records: list[Any]
    response: T


class BrokerHeartbeatTracker:
    """When each broker last heartbeated (controller memory, not metadata: Kafka's
    BrokerHeartbeatManager)."""

    def __init__(self) -> None:
        self.last_contact: dict[int, int] = {}

    def touch(self, broker_id: int, now_ms: int) -> None:
        self.last_contact[broker_id] = now_ms

    def remove(self, broker_id: int) -> None:
        self.last_contact.pop(broker_id, None)

    def has_valid_session(self, broker_id: int, now_ms: int, timeout_ms: int) -> bool:
        last = self.last_contact.get(broker_id)
        return last is not None and now_ms - last < timeout_ms

    def expired(self, now_ms: int, timeout_ms: int) -> list[int]:
        return sorted(b for b, last in self.last_contact.items() if now_ms - last >= timeout_ms)


# --- helpers ---------------------------------------------------------------------------------


def validate_topic_name(name: str) -> str | None:
    """Kafka's Topic.validate: the InvalidTopicException message, or None if legal."""
    if not name:
        return "Topic name is illegal, it can't be empty"
    if name in (".", ".."):
        return 'Topic name cannot be "." or ".."'
    if len(name) > MAX_TOPIC_NAME_LENGTH:
        return (f"Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LENGTH} characters, "
                f"topic name: {name}")
    if not _LEGAL_TOPIC_CHARS.match(name):
        return (f'Topic name "{name}" is illegal, it contains a character other than ASCII alphanumerics, '
                "'.', '_' and '-'")
    return None


def _normalized(name: str) -> str:
    return name.replace(".", "_")


def new_topic_id(image: MetadataImage, rng: random.Random, taken: set[uuid.UUID] = frozenset()) -> uuid.UUID:
    """A random topic id as Kafka's Uuid.randomUuid makes them: never zero or the metadata
    topic's id (1), never one whose base64 form starts with '-', never in use."""
    while True:
        tid = uuid.UUID(int=rng.getrandbits(128), version=4)
        if tid.int <= 1 or tid in image.topics_by_id or tid in taken:
            continue
        if tid.bytes[0] >> 2 == 62:  # base64url "-"
            continue
        return tid


def _directories(image: MetadataImage, replicas: Iterable[int]) -> list[uuid.UUID]:
    out = []
    for b in replicas:
        reg = image.brokers.get(b)
        out.append(reg.directories[0] if reg is not None and len(reg.directories) == 1 else UNASSIGNED_DIRECTORY)
    return out


def _partition_record(image: MetadataImage, topic_id: uuid.UUID, partition: int, replicas: list[int],
                      isr: list[int]) -> Any:
    return r.PartitionRecord(
        partition_id=partition, topic_id=topic_id, replicas=list(replicas), isr=list(isr),
        removing_replicas=[], adding_replicas=[], leader=isr[0], leader_recovery_state=0,
        leader_epoch=0, partition_epoch=0, directories=_directories(image, replicas),
    )


def _active_brokers(image: MetadataImage) -> list[BrokerRegistration]:
    return [b for b in image.brokers.values() if b.active]


def _is_active(image: MetadataImage, broker_id: int) -> bool:
    reg = image.brokers.get(broker_id)
    return reg is not None and reg.active


def _manual_assignment_error(image: MetadataImage, replicas: list[int], expected_rf: int | None) -> str | None:
    """Kafka's validateManualPartitionAssignment: the INVALID_REPLICA_ASSIGNMENT message."""
    if not replicas:
        return "The manual partition assignment includes an empty replica list."
    previous = None
    for b in sorted(replicas):
        if b not in image.brokers:
            return f"The manual partition assignment includes broker {b}, but no such broker is registered."
        if b == previous:
            return f"The manual partition assignment includes the broker {b} more than once."
        previous = b
    if expected_rf is not None and len(replicas) != expected_rf:
        return (f"The manual partition assignment includes a partition with {len(replicas)} replica(s), but "
                f"this is not consistent with previous partitions, which have {expected_rf} replica(s).")
    return None


def _topic_config_error(configs: Mapping[str, str | None], ctx: ControllerContext) -> ApiError | None:
    nulls = [k for k, v in configs.items() if v is None]
    if nulls:
        return ApiError.of(ErrorCode.INVALID_REQUEST, "Null value not supported for : " + ", ".join(nulls))
    try:
        validate = _topic_config_validator()
        validate(configs, ctx.config.broker_config)
    except ValueError as exc:  # pybroker.config.ConfigError and storage's ConfigError
        return ApiError.of(ErrorCode.INVALID_CONFIG, str(exc))
    return None


def _topic_config_validator() -> Callable[[Mapping[str, str | None], Any], Any]:
    from pybroker.config import validate_topic_configs

    return validate_topic_configs


def _config_def(resource_type: int, key: str) -> Any:
    from pybroker.config import BROKER_CONFIGS, TOPIC_CONFIGS

    if resource_type == ConfigResourceType.TOPIC:
        return TOPIC_CONFIGS.get(key)
    if resource_type == ConfigResourceType.BROKER:
        return BROKER_CONFIGS.get(key)
    return None


def _broker_config_error(resource: ConfigResource, changes: Mapping[str, str | None]) -> ApiError | None:
    from pybroker.config import ConfigError, UpdateMode

    read_only = []
    per_broker_only = []
    for key, value in changes.items():
        definition = _config_def(ConfigResourceType.BROKER, key)
        if definition is None:
            continue  # Kafka accepts custom broker configs
        if definition.read_only:
            read_only.append(key)
            continue
        if resource.name == "" and definition.update_mode is UpdateMode.PER_BROKER:
            per_broker_only.append(key)
            continue
        if value is not None:
            try:
                definition.parse(value)
            except (ConfigError, ValueError) as exc:
                return ApiError.of(ErrorCode.INVALID_CONFIG, str(exc))
    if read_only:
        return ApiError.of(ErrorCode.INVALID_REQUEST,
                           f"Cannot update these configs dynamically: Set({', '.join(sorted(read_only))})")
    if per_broker_only:
        return ApiError.of(ErrorCode.INVALID_REQUEST,
                           "Cannot update these configs at default cluster level, broker id must be specified: "
                           f"Set({', '.join(sorted(per_broker_only))})")
    return None


# --- topics ----------------------------------------------------------------------------------


def create_topics(image: MetadataImage, request: CreateTopicsRequest,
                  ctx: ControllerContext) -> ControllerResult[list[CreateTopicResult]]:
    """CreateTopics: validate every topic, then one TopicRecord, its ConfigRecords and its
    PartitionRecords per topic created. Results come in request order."""
    cfg = ctx.config
    counts: dict[str, int] = {}
    for t in request.topics:
        counts[t.name] = counts.get(t.name, 0) + 1
    results: list[CreateTopicResult] = []
    records: list[Any] = []
    created_names: dict[str, str] = {}  # normalized -> name, for collisions inside the request
    taken_ids: set[uuid.UUID] = set()
    budget = MAX_PARTITIONS_PER_REQUEST
    for topic in request.topics:
        name = topic.name
        result = CreateTopicResult(name)
        results.append(result)
        if counts[name] > 1:
            result.error = ApiError.of(ErrorCode.INVALID_REQUEST, "Duplicate topic name.")
            continue
        msg = validate_topic_name(name)
        if msg is not None:
            result.error = ApiError.of(ErrorCode.INVALID_TOPIC_EXCEPTION, msg)
            continue
        if name in image.topics_by_name:
            result.error = ApiError.of(ErrorCode.TOPIC_ALREADY_EXISTS, f"Topic '{name}' already exists.")
            continue
        other = image.colliding_topic(name) or created_names.get(_normalized(name))
        if other is not None and other != name:
            result.error = ApiError.of(ErrorCode.INVALID_TOPIC_EXCEPTION,
                                       f"Topic '{name}' collides with existing topic: {other}")
            continue
        err = _topic_config_error(topic.configs, ctx)
        if err is not None:
            result.error = err
            continue

        # partitions
        placements: list[tuple[list[int], list[int]]] = []
        if topic.assignments:
            if topic.replication_factor != -1:
                result.error = ApiError.of(ErrorCode.INVALID_REQUEST, "A manual partition assignment was "
                                           "specified, but replication factor was not set to -1.")
                continue
            if topic.num_partitions != -1:
                result.error = ApiError.of(ErrorCode.INVALID_REQUEST, "A manual partition assignment was "
                                           "specified, but numPartitions was not set to -1.")
                continue
            rf: int | None = None
            for p in range(len(topic.assignments)):
                if p not in topic.assignments:
                    result.error = ApiError.of(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                                               "partitions should be a consecutive 0-based integer sequence")
                    break
                replicas = list(topic.assignments[p])
                msg = _manual_assignment_error(image, replicas, rf)
                if msg is not None:
                    result.error = ApiError.of(ErrorCode.INVALID_REPLICA_ASSIGNMENT, msg)
                    break
                rf = len(replicas)
                isr = [b for b in replicas if _is_active(image, b)]
                if not isr:
                    result.error = ApiError.of(
                        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                        f"All brokers specified in the manual partition assignment for partition {p} are "
                        "fenced or in controlled shutdown.")
                    break
                placements.append((replicas, isr))
            if not result.error.ok:
                continue
        else:
            num_partitions = cfg.num_partitions if topic.num_partitions == -1 else topic.num_partitions
            rf = cfg.default_replication_factor if topic.replication_factor == -1 else topic.replication_factor
            if topic.replication_factor < -1 or topic.replication_factor == 0:
                result.error = ApiError.of(ErrorCode.INVALID_REPLICATION_FACTOR,
                                           "Replication factor must be larger than 0, or -1 to use the "
                                           "default value.")
                continue
            if topic.num_partitions < -1 or topic.num_partitions == 0:
                result.error = ApiError.of(ErrorCode.INVALID_PARTITIONS,
                                           "Number of partitions was set to an invalid non-positive value.")
                continue
            if num_partitions > budget:
                result.error = ApiError.of(ErrorCode.INVALID_PARTITIONS,
                                           f"Number of partitions {num_partitions} is more than one request "
                                           f"may create ({MAX_PARTITIONS_PER_REQUEST}).")
                continue
            try:
                lists = place_replicas(_active_brokers(image), num_partitions, rf, ctx.rng)
            except PlacementError as exc:
                result.error = ApiError.of(ErrorCode.INVALID_REPLICATION_FACTOR,
                                           f"Unable to replicate the partition {rf} time(s): {exc}")
                continue
            placements = [(replicas, list(replicas)) for replicas in lists]
        budget -= len(placements)

        topic_id = new_topic_id(image, ctx.rng, taken_ids)
        taken_ids.add(topic_id)
        created_names[_normalized(name)] = name
        result.topic_id = topic_id if not request.validate_only else uuid.UUID(int=0)
        result.num_partitions = len(placements)
        result.replication_factor = len(placements[0][0])
        result.configs = {k: v for k, v in topic.configs.items() if v is not None}
        records.append(r.TopicRecord(name=name, topic_id=topic_id))
        for key in sorted(result.configs):
            records.append(r.ConfigRecord(resource_type=ConfigResourceType.TOPIC, resource_name=name,
                                          name=key, value=result.configs[key]))
        for p, (replicas, isr) in enumerate(placements):
            records.append(_partition_record(image, topic_id, p, replicas, isr))
    if request.validate_only:
        records = []
    return ControllerResult(records, results)


def delete_topics(image: MetadataImage, request: DeleteTopicsRequest,
                  ctx: ControllerContext) -> ControllerResult[list[DeleteTopicResult]]:
    """DeleteTopics by name and by id: one RemoveTopicRecord per topic. Results list the names
    first, then the ids, in request order."""
    results: list[DeleteTopicResult] = []
    zero = uuid.UUID(int=0)
    name_counts: dict[str, int] = {}
    for n in request.names:
        name_counts[n] = name_counts.get(n, 0) + 1
    id_counts: dict[uuid.UUID, int] = {}
    for i in request.topic_ids:
        id_counts[i] = id_counts.get(i, 0) + 1
    doomed: dict[uuid.UUID, str] = {}
    for name in request.names:
        topic = image.topics_by_name.get(name)
        res = DeleteTopicResult(name, topic.topic_id if topic is not None else zero)
        results.append(res)
        if not ctx.config.delete_topic_enable:
            res.error = ApiError.of(ErrorCode.TOPIC_DELETION_DISABLED)
        elif name_counts[name] > 1:
            res.error = ApiError.of(ErrorCode.INVALID_REQUEST, "Duplicate topic name.")
        elif topic is None:
            res.error = ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        else:
            doomed[topic.topic_id] = name
    for tid in request.topic_ids:
        topic = image.topics_by_id.get(tid)
        res = DeleteTopicResult(topic.name if topic is not None else None, tid)
        results.append(res)
        if not ctx.config.delete_topic_enable:
            res.error = ApiError.of(ErrorCode.TOPIC_DELETION_DISABLED)
        elif id_counts[tid] > 1:
            res.error = ApiError.of(ErrorCode.INVALID_REQUEST, "Duplicate topic id.")
        elif tid == zero:
            res.error = ApiError.of(ErrorCode.INVALID_REQUEST, f"Attempt to find topic with invalid topicId {tid}")
        elif topic is None:
            res.error = ApiError.of(ErrorCode.UNKNOWN_TOPIC_ID)
        else:
            doomed[tid] = topic.name
    records = [r.RemoveTopicRecord(topic_id=tid) for tid in doomed]
    return ControllerResult(records, results)


def create_partitions(image: MetadataImage, request: CreatePartitionsRequest,
                      ctx: ControllerContext) -> ControllerResult[list[CreatePartitionsResult]]:
    """CreatePartitions: only increases; new partitions take the topic's replication factor."""
    counts: dict[str, int] = {}
    for t in request.topics:
        counts[t.name] = counts.get(t.name, 0) + 1
    results: list[CreatePartitionsResult] = []
    records: list[Any] = []
    for t in request.topics:
        res = CreatePartitionsResult(t.name)
        results.append(res)
        if counts[t.name] > 1:
            res.error = ApiError.of(ErrorCode.INVALID_REQUEST, "Duplicate topic name.")
            continue
        topic = image.topics_by_name.get(t.name)
        if topic is None:
            res.error = ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            continue
        current = topic.num_partitions
        if t.count == current:
            res.error = ApiError.of(ErrorCode.INVALID_PARTITIONS, f"Topic already has {current} partition(s).")
            continue
        if t.count < current:
            res.error = ApiError.of(ErrorCode.INVALID_PARTITIONS,
                                    f"The topic {t.name} currently has {current} partition(s); {t.count} would "
                                    "not be an increase.")
            continue
        additional = t.count - current
        if additional > MAX_PARTITIONS_PER_REQUEST:
            res.error = ApiError.of(ErrorCode.INVALID_PARTITIONS,
                                    f"Adding {additional} partitions is more than one request may create "
                                    f"({MAX_PARTITIONS_PER_REQUEST}).")
            continue
        rf = topic.replication_factor
        new: list[tuple[list[int], list[int]]] = []
        if t.assignments is not None:
            if len(t.assignments) != additional:
                res.error = ApiError.of(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                                        f"Attempted to add {additional} additional partition(s), but only "
                                        f"{len(t.assignments)} assignment(s) were specified.")
                continue
            for i, replicas in enumerate(t.assignments):
                msg = _manual_assignment_error(image, list(replicas), rf)
                if msg is not None:
                    res.error = ApiError.of(ErrorCode.INVALID_REPLICA_ASSIGNMENT, msg)
                    break
                isr = [b for b in replicas if _is_active(image, b)]
                if not isr:
                    res.error = ApiError.of(
                        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                        f"All brokers specified in the manual partition assignment for partition {current + i} "
                        "are fenced or in controlled shutdown.")
                    break
                new.append((list(replicas), isr))
            if not res.error.ok:
                continue
        else:
            try:
                lists = place_replicas(_active_brokers(image), additional, rf, ctx.rng, start_partition=current)
            except PlacementError as exc:
                res.error = ApiError.of(ErrorCode.INVALID_REPLICATION_FACTOR,
                                        f"Unable to replicate the partition {rf} time(s): {exc}")
                continue
            new = [(replicas, list(replicas)) for replicas in lists]
        for i, (replicas, isr) in enumerate(new):
            records.append(_partition_record(image, topic.topic_id, current + i, replicas, isr))
    if request.validate_only:
        records = []
    return ControllerResult(records, results)


# --- configs ---------------------------------------------------------------------------------


def _check_config_resource(image: MetadataImage, rtype: int, name: str) -> ApiError | None:
    """Kafka's checkConfigResource plus the controller's existence check."""
    if rtype == ConfigResourceType.BROKER:
        if name:
            try:
                broker_id = int(name)
            except ValueError:
                return ApiError.of(ErrorCode.INVALID_REQUEST, "Illegal non-integral BROKER resource type name.")
            if broker_id < 0:
                return ApiError.of(ErrorCode.INVALID_REQUEST, "Illegal negative broker ID in BROKER resource.")
            if broker_id not in image.brokers:
                return ApiError.of(ErrorCode.BROKER_ID_NOT_REGISTERED, f"No broker with id {broker_id} found.")
        return None
    if rtype == ConfigResourceType.TOPIC:
        if validate_topic_name(name) is not None:
            return ApiError.of(ErrorCode.INVALID_REQUEST, "Illegal topic name.")
        if name not in image.topics_by_name:
            return ApiError.of(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"The topic '{name}' does not exist.")
        return None
    try:
        kind = ConfigResourceType(rtype).name
    except ValueError:
        kind = str(rtype)
    return ApiError.of(ErrorCode.INVALID_REQUEST, f"Unsupported config resource type {kind}")


def _validate_new_configs(image: MetadataImage, res: ConfigResource, new: Mapping[str, str],
                          changed: Mapping[str, str | None], ctx: ControllerContext) -> ApiError | None:
    if res.type == ConfigResourceType.TOPIC:
        return _topic_config_error(new, ctx)
    return _broker_config_error(res, changed)


def _config_records(res: ConfigResource, old: Mapping[str, str], new: Mapping[str, str],
                    touched: Iterable[str]) -> list[Any]:
    out = []
    always = res.type == ConfigResourceType.BROKER  # brokers reload on every broker config record
    for key in sorted(set(touched)):
        value = new.get(key)
        if always or old.get(key) != value:
            out.append(r.ConfigRecord(resource_type=res.type, resource_name=res.name, name=key, value=value))
    return out


def _duplicate_resources(resources: Iterable[Any]) -> set[tuple[int, str]]:
    seen: set[tuple[int, str]] = set()
    dup: set[tuple[int, str]] = set()
    for res in resources:
        key = (res.resource_type, res.resource_name)
        (dup if key in seen else seen).add(key)
    return dup


def alter_configs(image: MetadataImage, resources: list[AlterConfigsResource], validate_only: bool,
                  ctx: ControllerContext) -> ControllerResult[list[AlterConfigsResult]]:
    """AlterConfigs (the legacy API): each resource's explicit configs become exactly the
    given ones; configs left out are deleted."""
    dup = _duplicate_resources(resources)
    results: list[AlterConfigsResult] = []
    records: list[Any] = []
    for item in resources:
        res = ConfigResource(item.resource_type, item.resource_name)
        out = AlterConfigsResult(item.resource_type, item.resource_name)
        results.append(out)
        if (item.resource_type, item.resource_name) in dup:
            out.error = ApiError.of(ErrorCode.INVALID_REQUEST, "Duplicate resource.")
            continue
        err = _check_config_resource(image, res.type, res.name)
        if err is None:
            nulls = [k for k, v in item.configs.items() if v is None]
            if nulls:
                err = ApiError.of(ErrorCode.INVALID_REQUEST, "Null value not supported for : " + ", ".join(nulls))
        old = dict(image.config(res))
        new = {k: v for k, v in item.configs.items() if v is not None}
        changed: dict[str, str | None] = {k: None for k in old if k not in new}
        changed.update(new)
        if err is None:
            err = _validate_new_configs(image, res, new, changed, ctx)
        if err is not None:
            out.error = err
            continue
        records += _config_records(res, old, new, changed)
    return ControllerResult([] if validate_only else records, results)


def incremental_alter_configs(image: MetadataImage, resources: list[IncrementalAlterConfigsResource],
                              validate_only: bool,
                              ctx: ControllerContext) -> ControllerResult[list[AlterConfigsResult]]:
    """IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT per key."""
    dup = _duplicate_resources(resources)
    results: list[AlterConfigsResult] = []
    records: list[Any] = []
    for item in resources:
        res = ConfigResource(item.resource_type, item.resource_name)
        out = AlterConfigsResult(item.resource_type, item.resource_name)
        results.append(out)
        if (item.resource_type, item.resource_name) in dup:
            out.error = ApiError.of(ErrorCode.INVALID_REQUEST, "Duplicate resource.")
            continue
        err = _check_config_resource(image, res.type, res.name)
        if err is None:
            names = [c.name for c in item.configs]
            if len(set(names)) != len(names):
                err = ApiError.of(ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys")
        old = dict(image.config(res))
        new = dict(old)
        if err is None:
            err = _apply_ops(res, item.configs, old, new)
        changed = {c.name: new.get(c.name) for c in item.configs}
        if err is None:
            err = _validate_new_configs(image, res, new, changed, ctx)
        if err is not None:
            out.error = err
            continue
        records += _config_records(res, old, new, changed)
    return ControllerResult([] if validate_only else records, results)


def _apply_ops(res: ConfigResource, ops: list[AlterableConfig], old: Mapping[str, str],
               new: dict[str, str]) -> ApiError | None:
    from pybroker.config import ConfigType

    for c in ops:
        try:
            op = AlterConfigOp(c.op)
        except ValueError:
            return ApiError.of(ErrorCode.INVALID_REQUEST, f"Unknown alter config operation {c.op}")
        if op is AlterConfigOp.SET:
            if c.value is None:
                return ApiError.of(ErrorCode.INVALID_REQUEST, f"Null value not supported for : {c.name}")
            new[c.name] = c.value
        elif op is AlterConfigOp.DELETE:
            new.pop(c.name, None)
        else:
            definition = _config_def(res.type, c.name)
            if definition is None or definition.type is not ConfigType.LIST:
                return ApiError.of(ErrorCode.INVALID_CONFIG,
                                   f"Can't {op.name} to key {c.name} because its type is not LIST.")
            current = old.get(c.name)
            if current is None:
                default = definition.default
                parts = [str(x) for x in default] if isinstance(default, (list, tuple)) else \
                    ([] if default in (None, "") else [str(default)])
            else:
                parts = [p.strip() for p in current.split(",") if p.strip()]
            values = [v.strip() for v in (c.value or "").split(",") if v.strip()]
            if op is AlterConfigOp.APPEND:
                parts += [v for v in values if v not in parts]
            else:
                parts = [p for p in parts if p not in values]
            new[c.name] = ",".join(parts)
    return None


# --- producer ids ----------------------------------------------------------------------------


def _check_broker_epoch(image: MetadataImage, broker_id: int, broker_epoch: int) -> ApiError | None:
    reg = image.brokers.get(broker_id)
    if reg is None:
        return ApiError.of(ErrorCode.STALE_BROKER_EPOCH, f"No broker registration found for broker {broker_id}")
    if reg.epoch != broker_epoch:
        return ApiError.of(ErrorCode.STALE_BROKER_EPOCH,
                           f"Expected broker epoch {reg.epoch}, but got broker epoch {broker_epoch}")
    return None


def allocate_producer_ids(image: MetadataImage, broker_id: int, broker_epoch: int,
                          ctx: ControllerContext) -> ControllerResult[ProducerIdsBlock]:
    """AllocateProducerIds: the next block of 1000 ids, recorded by a ProducerIdsRecord."""
    err = _check_broker_epoch(image, broker_id, broker_epoch)
    if err is not None:
        return ControllerResult([], ProducerIdsBlock(err))
    first = image.next_producer_id
    if first > _INT64_MAX - PRODUCER_ID_BLOCK_SIZE:
        return ControllerResult([], ProducerIdsBlock(ApiError.of(
            ErrorCode.UNKNOWN_SERVER_ERROR, "Exhausted all producerIds as the next block's end producerId "
            "has exceeded the int64 type limit")))
    record = r.ProducerIdsRecord(broker_id=broker_id, broker_epoch=broker_epoch,
                                 next_producer_id=first + PRODUCER_ID_BLOCK_SIZE)
    return ControllerResult([record], ProducerIdsBlock(NO_ERROR, first, PRODUCER_ID_BLOCK_SIZE))


# --- brokers ---------------------------------------------------------------------------------


def _elect(reg: PartitionRegistration, isr: Iterable[int], usable: Callable[[int], bool]) -> int:
    """The first replica, in preference order, that is in the ISR and may lead."""
    members = set(isr)
    for b in reg.replicas:
        if b in members and usable(b):
            return b
    return NO_LEADER


def _leader_and_isr_updates(image: MetadataImage, *, remove: int | None = None, add: int | None = None,
                            usable: Callable[[int], bool]) -> list[Any]:
    """PartitionChangeRecords for a broker leaving (fenced, shutting down, unregistered:
    out of every ISR but a singleton one, and out of leadership) or a broker arriving
    (unfenced: it leads the leaderless partitions whose ISR holds it)."""
    out = []
    for topic in image.topics_by_name.values():
        for p, reg in topic.partitions.items():
            isr = reg.isr
            new_isr = isr
            if remove is not None:
                if remove not in isr and reg.leader != remove:
                    continue
                if remove in isr and len(isr) > 1:
                    new_isr = tuple(b for b in isr if b != remove)
                leader = reg.leader
                if leader == remove or (leader != NO_LEADER and not usable(leader)):
                    leader = _elect(reg, new_isr, usable)
            else:
                if reg.leader != NO_LEADER or add not in isr:
                    continue
                leader = _elect(reg, isr, usable)
            if new_isr == isr and leader == reg.leader:
                continue
            out.append(r.PartitionChangeRecord(
                partition_id=p, topic_id=topic.topic_id,
                isr=list(new_isr) if new_isr != isr else None,
                leader=leader if leader != reg.leader else -2,
            ))
    return out


PREFERRED_ELECTION, UNCLEAN_ELECTION = 0, 1


def elect_leaders(image: MetadataImage, election_type: int, partitions: list[tuple[str, int]] | None,
                  ctx: ControllerContext) -> ControllerResult[list[tuple[str, int, ApiError]]]:
    """ElectLeaders, as Kafka's ReplicationControlManager: a preferred election moves leadership
    to the first replica when it is in the ISR and may lead; an unclean one gives a leaderless
    partition any live replica. `partitions` None means every partition, and then partitions
    that need no election are left out of the results."""
    every = partitions is None
    if every:
        partitions = [(name, p) for name, topic in sorted(image.topics_by_name.items())
                      for p in sorted(topic.partitions)]
    results: list[tuple[str, int, ApiError]] = []
    records: list[Any] = []
    for name, p in partitions:
        topic = image.topics_by_name.get(name)
        reg = topic.partitions.get(p) if topic is not None else None
        if reg is None:
            results.append((name, p, ApiError.of(
                ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                f"No such topic as {name}" if topic is None else f"No such partition as {name}-{p}")))
            continue
        preferred = reg.replicas[0] if reg.replicas else NO_LEADER
        if (election_type == PREFERRED_ELECTION and reg.leader == preferred) or \
                (election_type == UNCLEAN_ELECTION and reg.leader != NO_LEADER):
            if not every:
                results.append((name, p, ApiError.of(ErrorCode.ELECTION_NOT_NEEDED)))
            continue
        if election_type == PREFERRED_ELECTION:
            leader = preferred if preferred in reg.isr and _is_active(image, preferred) else NO_LEADER
            missing = ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE
        else:
            leader = _elect(reg, reg.isr, lambda b: _is_active(image, b))
            if leader == NO_LEADER:  # unclean: any live replica, out of the ISR if need be
                leader = _elect(reg, reg.replicas, lambda b: _is_active(image, b))
            missing = ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE
        if leader == NO_LEADER:
            results.append((name, p, ApiError.of(missing)))
            continue
        isr = None if leader in reg.isr else [leader]  # an unclean leader starts a new ISR
        records.append(r.PartitionChangeRecord(partition_id=p, topic_id=topic.topic_id, leader=leader, isr=isr))
        results.append((name, p, NO_ERROR))
    return ControllerResult(records, results)


def register_broker(image: MetadataImage, request: BrokerRegistrationRequest, ctx: ControllerContext,
                    tracker: BrokerHeartbeatTracker) -> ControllerResult[BrokerRegistrationReply]:
    """BrokerRegistration: a RegisterBrokerRecord whose offset is the new broker epoch. A new
    incarnation starts fenced; the same incarnation re-registering keeps its state."""
    if request.cluster_id != image.cluster_id:
        return ControllerResult([], BrokerRegistrationReply(ApiError.of(
            ErrorCode.INCONSISTENT_CLUSTER_ID,
            f"Expected cluster ID {image.cluster_id}, but got cluster ID {request.cluster_id}")))
    existing = image.brokers.get(request.broker_id)
    if existing is not None and existing.incarnation_id != request.incarnation_id and \
            tracker.has_valid_session(request.broker_id, ctx.now_ms, ctx.config.broker_session_timeout_ms):
        return ControllerResult([], BrokerRegistrationReply(ApiError.of(
            ErrorCode.DUPLICATE_BROKER_REGISTRATION, "Another broker is registered with that broker id.")))
    mv = image.metadata_version
    supported = request.features.get(feat.METADATA_VERSION)
    if mv and supported is not None and not supported[0] <= mv <= supported[1]:
        return ControllerResult([], BrokerRegistrationReply(ApiError.of(
            ErrorCode.UNSUPPORTED_VERSION,
            f"Unable to register because the broker does not support finalized version {mv} of "
            f"metadata.version. The broker wants a version between {supported[0]} and {supported[1]}, "
            "inclusive.")))
    for name, level in sorted(image.features.items()):
        # Kafka refuses a broker that cannot run at a finalized level of any feature.
        if name == feat.METADATA_VERSION or level <= 0:
            continue
        low, high = request.features.get(name, (0, 0))
        if not low <= level <= high:
            return ControllerResult([], BrokerRegistrationReply(ApiError.of(
                ErrorCode.UNSUPPORTED_VERSION,
                f"Unable to register because the broker does not support finalized version {level} of "
                f"{name}. The broker wants a version between {low} and {high}, inclusive.")))
    same = existing is not None and existing.incarnation_id == request.incarnation_id
    epoch = ctx.next_offset
    record = r.RegisterBrokerRecord(
        broker_id=request.broker_id,
        incarnation_id=request.incarnation_id,
        broker_epoch=epoch,
        end_points=[r.BrokerEndpoint(name=e.name, host=e.host, port=e.port, security_protocol=int(e.security_protocol))
                    for e in request.listeners],
        features=[r.BrokerFeature(name=n, min_supported_version=lo, max_supported_version=hi)
                  for n, (lo, hi) in sorted(request.features.items())],
        rack=request.rack,
        fenced=existing.fenced if same else True,
        in_controlled_shutdown=existing.in_controlled_shutdown if same else False,
        log_dirs=list(request.log_dirs),
    )
    tracker.touch(request.broker_id, ctx.now_ms)
    return ControllerResult([record], BrokerRegistrationReply(NO_ERROR, epoch))


def broker_heartbeat(image: MetadataImage, request: BrokerHeartbeatRequest, ctx: ControllerContext,
                     tracker: BrokerHeartbeatTracker) -> ControllerResult[BrokerHeartbeatReply]:
    """BrokerHeartbeat: keep the session alive; unfence a caught-up broker that wants in, fence
    one that wants out, and walk a shutting-down broker through controlled shutdown."""
    reg = image.brokers.get(request.broker_id)
    if reg is None:
        return ControllerResult([], BrokerHeartbeatReply(ApiError.of(
            ErrorCode.BROKER_ID_NOT_REGISTERED, f"Broker {request.broker_id} is not registered.")))
    if reg.epoch != request.broker_epoch:
        return ControllerResult([], BrokerHeartbeatReply(ApiError.of(
            ErrorCode.STALE_BROKER_EPOCH,
            f"Expected broker epoch {reg.epoch}, but got broker epoch {request.broker_epoch}")))
    tracker.touch(reg.id, ctx.now_ms)
    caught_up = request.current_metadata_offset >= reg.epoch
    bid = reg.id
    records: list[Any] = []
    fenced, shutting_down, shut_down = reg.fenced, reg.in_controlled_shutdown, False

    def change(fence: int = 0, shutdown: int = 0) -> Any:
        return r.BrokerRegistrationChangeRecord(broker_id=bid, broker_epoch=reg.epoch, fenced=fence,
                                                in_controlled_shutdown=shutdown)

    def usable_without_me(b: int) -> bool:
        return b != bid and _is_active(image, b)

    if fenced:
        if request.want_shut_down:
            shut_down = True
        elif not request.want_fence and caught_up:
            def usable_with_me(b: int) -> bool:
                return b == bid or _is_active(image, b)
            records.append(change(fence=-1))
            records += _leader_and_isr_updates(image, add=bid, usable=usable_with_me)
            fenced = False
    elif request.want_fence:
        records += _leader_and_isr_updates(image, remove=bid, usable=usable_without_me)
        records.append(change(fence=1))
        fenced = True
    elif request.want_shut_down or shutting_down:
        if not shutting_down:
            records += _leader_and_isr_updates(image, remove=bid, usable=usable_without_me)
            records.append(change(shutdown=1))
            shutting_down = True
        leads = any(p.leader == bid for t in image.topics_by_name.values() for p in t.partitions.values())
        if not leads or records:
            # Leadership has moved (or is moving in these very records): shut down now.
            records.append(change(fence=1))
            fenced, shut_down = True, True
    reply = BrokerHeartbeatReply(NO_ERROR, is_caught_up=caught_up, is_fenced=fenced, should_shut_down=shut_down)
    return ControllerResult(records, reply)


def fence_stale_brokers(image: MetadataImage, ctx: ControllerContext,
                        tracker: BrokerHeartbeatTracker) -> ControllerResult[list[int]]:
    """Fence unfenced brokers whose session (broker.session.timeout.ms) expired."""
    records: list[Any] = []
    fenced: list[int] = []
    gone: set[int] = set()
    for bid in tracker.expired(ctx.now_ms, ctx.config.broker_session_timeout_ms):
        reg = image.brokers.get(bid)
        if reg is None or reg.fenced:
            continue
        gone.add(bid)

        def usable(b: int) -> bool:
            return b not in gone and _is_active(image, b)

        records += _leader_and_isr_updates(image, remove=bid, usable=usable)
        records.append(r.BrokerRegistrationChangeRecord(broker_id=bid, broker_epoch=reg.epoch, fenced=1))
        fenced.append(bid)
    return ControllerResult(records, fenced)


def unregister_broker(image: MetadataImage, broker_id: int, ctx: ControllerContext,
                      tracker: BrokerHeartbeatTracker) -> ControllerResult[ApiError]:
    reg = image.brokers.get(broker_id)
    if reg is None:
        return ControllerResult([], ApiError.of(ErrorCode.BROKER_ID_NOT_REGISTERED,
                                                f"Broker ID {broker_id} is not currently registered"))

    def usable(b: int) -> bool:
        return b != broker_id and _is_active(image, b)

    records = _leader_and_isr_updates(image, remove=broker_id, usable=usable)
    records.append(r.UnregisterBrokerRecord(broker_id=broker_id, broker_epoch=reg.epoch))
    tracker.remove(broker_id)
    return ControllerResult(records, NO_ERROR)


def update_features(image: MetadataImage, updates: list[FeatureUpdate], validate_only: bool, ctx: ControllerContext,
                    node_id: int) -> ControllerResult[ApiError]:
    """UpdateFeatures, as Kafka 4's FeatureControlManager: every update is checked (this
    controller and every registered broker support the level, downgrades only with a downgrade
    type, the features it depends on), and the first refusal refuses them all. The records are
    FeatureLevelRecords (level 0 removes a feature); `validate_only` writes nothing."""
    proposed = dict(image.features)
    proposed[feat.METADATA_VERSION] = image.metadata_version
    proposed.update({u.name: u.level for u in updates})
    records: list[Any] = []
    for u in updates:
        error = _update_feature(image, u, proposed, node_id, records)
        if error is not None:
            return ControllerResult([], error)
    return ControllerResult([] if validate_only else records, NO_ERROR)


def _update_feature(image: MetadataImage, u: FeatureUpdate, proposed: Mapping[str, int], node_id: int,
                    records: list[Any]) -> ApiError | None:
    def invalid(reason: str) -> ApiError:
        return ApiError.of(ErrorCode.INVALID_UPDATE_VERSION,
                           f"Invalid update version {u.level} for feature {u.name}. {reason}")

    if u.upgrade_type not in (UpgradeType.UPGRADE, UpgradeType.SAFE_DOWNGRADE, UpgradeType.UNSAFE_DOWNGRADE):
        return invalid("The controller does not support the given upgrade type.")
    if u.name == feat.METADATA_VERSION:
        current = image.metadata_version
    elif u.name == feat.KRAFT_VERSION:
        current = 0  # a static quorum: kraft.version 0
    else:
        current = image.features.get(u.name, 0)
    if u.level < 0:
        return invalid("A feature version cannot be less than 0.")
    reason = feat.reason_not_supported(u.level, f"Local controller {node_id}", feat.SUPPORTED_FEATURES.get(u.name))
    for bid in sorted(image.brokers):
        if reason is not None:
            break
        reason = feat.reason_not_supported(u.level, f"Broker {bid}", image.brokers[bid].supported_range(u.name))
    if reason is not None:
        return invalid(reason)
    upgrade = u.upgrade_type == UpgradeType.UPGRADE
    if u.level < current and upgrade:
        return invalid("Can't downgrade the version of this feature without setting the upgrade type to "
                       "either safe or unsafe downgrade.")
    if u.level > current and not upgrade:
        return invalid("Can't downgrade to a newer version.")
    if u.name == feat.METADATA_VERSION:
        if u.level < current:
            # Kafka allows a downgrade across versions that changed no metadata; pybroker has no
            # such table, so it refuses every metadata.version downgrade (its safe answer).
            why = ("Unsafe metadata downgrade is not supported in this version."
                   if u.upgrade_type == UpgradeType.UNSAFE_DOWNGRADE else
                   "Refusing to perform the requested downgrade because it might delete metadata information.")
            return ApiError.of(ErrorCode.INVALID_UPDATE_VERSION,
                               f"Unsupported metadata.version downgrade from {current} to {u.level}. {why}")
        records.append(r.FeatureLevelRecord(name=u.name, feature_level=u.level))
        return None
    if u.name == feat.KRAFT_VERSION:
        if not upgrade and u.level != current:
            return invalid("Can't downgrade the version of this feature.")
        return None
    reason = feat.validate_level(u.name, u.level, proposed)
    if reason is not None:
        return invalid(reason)
    records.append(r.FeatureLevelRecord(name=u.name, feature_level=u.level))
    return None


def bootstrap(image: MetadataImage, ctx: ControllerContext) -> ControllerResult[None]:
    """The records a new active controller writes when the log has no metadata.version yet."""
    if image.metadata_version:
        return ControllerResult([], None)
    return ControllerResult(feat.bootstrap_records(ctx.config.bootstrap_features), None)


# --- the async driver ------------------------------------------------------------------------


class NotControllerError(Exception):
    """This node is not the active controller (Kafka's NOT_CONTROLLER, retriable)."""

    error_code = ErrorCode.NOT_CONTROLLER

    def __init__(self, leader_id: int | None) -> None:
        super().__init__(f"this node is not the active controller (the controller is {leader_id})")
        self.leader_id = leader_id


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class QuorumController:
    """The active controller on a raft client: it listens to the metadata log, and while its
    node leads the quorum it runs operations against its image (which includes what it has
    appended but not yet seen committed), appends their records as one atomic batch, and
    answers once the batch is committed.

    Operations raise NotControllerError when this node does not lead.
    """

    def __init__(self, node_id: int, raft: RaftClient, cluster_id: str, config: ControllerConfig | None = None, *,
                 clock: Callable[[], int] | None = None, rng: random.Random | None = None,
                 fence_check_interval_ms: int = 1000) -> None:
        self.node_id = node_id
        self.raft = raft
        self.config = config or ControllerConfig()
        self._clock = clock or _wall_clock_ms
        self._rng = rng or random.Random(int.from_bytes(os.urandom(16), "big"))
        self._committed = MetadataImage.empty(cluster_id)
        self._image = self._committed
        self._pending: deque[tuple[int, MetadataImage]] = deque()
        self.tracker = BrokerHeartbeatTracker()
        self._active = False
        self._active_event = asyncio.Event()
        self._fence_interval = fence_check_interval_ms
        self._fence_task: asyncio.Task | None = None

    # -- state ---------------------------------------------------------------------------

    @property
    def image(self) -> MetadataImage:
        """The controller's image: committed state plus its own appends in flight."""
        return self._image

    @property
    def committed_image(self) -> MetadataImage:
        return self._committed

    @property
    def is_active(self) -> bool:
        return self._active

    async def wait_until_active(self) -> None:
        await self._active_event.wait()

    # -- RaftListener --------------------------------------------------------------------

    def handle_commit(self, batch: CommittedBatch) -> None:
        if self._pending and self._pending[0][0] <= batch.last_offset:
            while self._pending and self._pending[0][0] <= batch.last_offset:
                _off, self._committed = self._pending.popleft()
            return
        if batch.last_offset <= self._committed.offset:
            return
        if batch.records:
            delta = MetadataDelta(self._committed)
            for frame in batch.records:
                delta.replay(r.decode_record(frame))
            self._committed = delta.apply(Provenance(batch.last_offset, batch.epoch, batch.append_time_ms))
        else:
            self._committed = self._committed.with_provenance(
                Provenance(batch.last_offset, batch.epoch, batch.append_time_ms))
        if not self._pending:
            self._image = self._committed

    def handle_load_snapshot(self, snapshot: Any) -> None:
        sid = snapshot.snapshot_id
        frames = [r.decode_record(f) for f in snapshot.records()]
        self._committed = image_from_records(frames, self._committed.cluster_id,
                                             Provenance(sid.offset - 1, sid.epoch, snapshot.last_contained_log_time_ms))
        self._pending.clear()
        self._image = self._committed

    def handle_leader_change(self, leader: LeaderAndEpoch) -> None:
        if leader.is_leader(self.node_id):
            self._activate()
        elif self._active:
            self._deactivate()

    def _activate(self) -> None:
        now = self._clock()
        self._image = self._committed
        self._pending.clear()
        # Every registered broker gets a fresh session from the moment this controller took over,
        # except the broker of this very node: it is restarting along with us, so its old
        # incarnation cannot be alive and must not hold up its new registration.
        for bid in self._image.brokers:
            if bid != self.node_id:
                self.tracker.touch(bid, now)
        self._active = True
        try:
            self._submit(bootstrap)
        except NotLeaderError:
            self._deactivate()
            return
        self._active_event.set()
        if self._fence_task is None:
            self._fence_task = asyncio.get_running_loop().create_task(self._fence_loop())
        logger.info("node %d is the active controller (epoch %d)", self.node_id, self.raft.epoch)

    def _deactivate(self) -> None:
        self._active = False
        self._active_event.clear()
        self._pending.clear()
        self._image = self._committed
        if self._fence_task is not None:
            self._fence_task.cancel()
            self._fence_task = None

    async def _fence_loop(self) -> None:
        while self._active:
            await asyncio.sleep(self._fence_interval / 1000)
            if not self._active:
                return
            try:
                fenced, _last = self._submit(lambda img, ctx: fence_stale_brokers(img, ctx, self.tracker))
                if fenced:
                    logger.info("fenced brokers %s: their sessions expired", fenced)
            except NotLeaderError:
                return
            except Exception:
                logger.exception("fencing stale brokers failed")

    async def close(self) -> None:
        if self._fence_task is not None:
            self._fence_task.cancel()
            try:
                await self._fence_task
            except (asyncio.CancelledError, Exception):
                pass
            self._fence_task = None
        self._active = False

    # -- running operations --------------------------------------------------------------

    def _context(self) -> ControllerContext:
        return ControllerContext(self._clock(), self.raft.log_end_offset, self._rng, self.config)

    def _submit(self, op: Callable[[MetadataImage, ControllerContext], ControllerResult[T]]) -> tuple[T, int | None]:
        """Run `op` on the current image and append its records; returns the response and the
        last offset appended (None when there was nothing to write). Nothing awaits in
        between, so operations never interleave."""
        if not self._active:
            raise NotControllerError(self.raft.leader_and_epoch().leader_id)
        ctx = self._context()
        result = op(self._image, ctx)
        if not result.records:
            return result.response, None
        frames = r.encode_records(result.records)
        last = self.raft.append(frames)
        assert last - len(frames) + 1 == ctx.next_offset, "the controller's offset guess was wrong"
        delta = MetadataDelta(self._image).replay_all(result.records)
        self._image = delta.apply(Provenance(last, self.raft.epoch, ctx.now_ms))
        self._pending.append((last, self._image))
        return result.response, last

    async def _run(self, op: Callable[[MetadataImage, ControllerContext], ControllerResult[T]]) -> T:
        if not self._active and self.raft.is_leader:
            await self._active_event.wait()  # leading, but still catching up with the log
        try:
            response, last = self._submit(op)
        except NotLeaderError as exc:
            raise NotControllerError(exc.leader_id) from None
        if last is not None:
            await self.raft.wait_for_commit(last)
        return response

    # -- operations ----------------------------------------------------------------------

    async def create_topics(self, request: CreateTopicsRequest) -> list[CreateTopicResult]:
        return await self._run(lambda img, ctx: create_topics(img, request, ctx))

    async def delete_topics(self, request: DeleteTopicsRequest) -> list[DeleteTopicResult]:
        return await self._run(lambda img, ctx: delete_topics(img, request, ctx))

    async def create_partitions(self, request: CreatePartitionsRequest) -> list[CreatePartitionsResult]:
        return await self._run(lambda img, ctx: create_partitions(img, request, ctx))

    async def alter_configs(self, resources: list[AlterConfigsResource],
                            validate_only: bool = False) -> list[AlterConfigsResult]:
        return await self._run(lambda img, ctx: alter_configs(img, resources, validate_only, ctx))

    async def incremental_alter_configs(self, resources: list[IncrementalAlterConfigsResource],
                                        validate_only: bool = False) -> list[AlterConfigsResult]:
        return await self._run(lambda img, ctx: incremental_alter_configs(img, resources, validate_only, ctx))

    async def allocate_producer_ids(self, broker_id: int, broker_epoch: int) -> ProducerIdsBlock:
        return await self._run(lambda img, ctx: allocate_producer_ids(img, broker_id, broker_epoch, ctx))

    async def register_broker(self, request: BrokerRegistrationRequest) -> BrokerRegistrationReply:
        return await self._run(lambda img, ctx: register_broker(img, request, ctx, self.tracker))

    async def broker_heartbeat(self, request: BrokerHeartbeatRequest) -> BrokerHeartbeatReply:
        return await self._run(lambda img, ctx: broker_heartbeat(img, request, ctx, self.tracker))

    async def unregister_broker(self, broker_id: int) -> ApiError:
        return await self._run(lambda img, ctx: unregister_broker(img, broker_id, ctx, self.tracker))

    async def elect_leaders(self, election_type: int,
                            partitions: list[tuple[str, int]] | None) -> list[tuple[str, int, ApiError]]:
        return await self._run(lambda img, ctx: elect_leaders(img, election_type, partitions, ctx))

    async def update_features(self, updates: list[FeatureUpdate], validate_only: bool = False) -> ApiError:
        return await self._run(lambda img, ctx: update_features(img, updates, validate_only, ctx, self.node_id))
