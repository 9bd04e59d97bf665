"""The metadata image: an immutable view of all cluster metadata at one log offset, and the
delta that one applied batch makes to it.

A new image is built per applied batch; readers simply hold a reference. Building it copies
only the top-level maps that changed and the topics that changed (structural sharing):
unchanged TopicImages, partition maps and config maps are shared between images.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from enum import IntEnum
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping, NamedTuple

from pybroker.metadata import records as r

NO_LEADER = -1
LEADER_UNCHANGED = -2  # PartitionChangeRecord.leader: the leader did not change
UNASSIGNED_DIRECTORY = uuid.UUID(int=0)  # Kafka's DirectoryId.UNASSIGNED

METADATA_VERSION = "metadata.version"

_EMPTY: Mapping[Any, Any] = MappingProxyType({})


class ConfigResourceType(IntEnum):
    """Kafka's ConfigResource.Type ids, as ConfigRecord.resource_type stores them."""

    UNKNOWN = 0
    TOPIC = 2
    BROKER = 4
    BROKER_LOGGER = 8
    CLIENT_METRICS = 16
    GROUP = 32


class ConfigResource(NamedTuple):
    """A config resource: (TOPIC, name), (BROKER, "<id>"), or (BROKER, "") for the cluster
    default of every broker."""

    type: int
    name: str


class SecurityProtocol(IntEnum):
    PLAINTEXT = 0
    SSL = 1
    SASL_PLAINTEXT = 2
    SASL_SSL = 3


class LeaderRecoveryState(IntEnum):
    RECOVERED = 0
    RECOVERING = 1


class MetadataApplyError(Exception):
    """A record that cannot apply to the image it follows (an inconsistent log)."""


# ---------------------------------------------------------------------------------------------
# brokers


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A broker listener as registered: listener name, host, port, security protocol id."""

    name: str
    host: str
    port: int
    security_protocol: int = SecurityProtocol.PLAINTEXT


@dataclass(frozen=True, slots=True)
class BrokerRegistration:
    """A registered broker. `epoch` is the offset of its RegisterBrokerRecord."""

    id: int
    epoch: int
    incarnation_id: uuid.UUID
    endpoints: tuple[Endpoint, ...] = ()
    rack: str | None = None
    fenced: bool = True
    in_controlled_shutdown: bool = False
    features: tuple[tuple[str, int, int], ...] = ()  # (name, min, max supported)
    directories: tuple[uuid.UUID, ...] = ()
    is_migrating_zk_broker: bool = False

    @property
    def active(self) -> bool:
        """Unfenced and not shutting down: may lead partitions and join new ISRs."""
        return not self.fenced and not self.in_controlled_shutdown

    def endpoint(self, listener: str) -> Endpoint | None:
        for ep in self.endpoints:
            if ep.name == listener:
                return ep
        return None

    def supported_range(self, feature: str) -> tuple[int, int] | None:
        for name, low, high in self.features:
            if name == feature:
                return low, high
        return None

    @classmethod
    def from_record(cls, rec: Any) -> BrokerRegistration:
        return cls(
            id=rec.broker_id,
            epoch=rec.broker_epoch,
            incarnation_id=rec.incarnation_id,
            endpoints=tuple(Endpoint(e.name, e.host, e.port, e.security_protocol) for e in rec.end_points),
            rack=rec.rack,
            fenced=rec.fenced,
            in_controlled_shutdown=rec.in_controlled_shutdown,
            features=tuple((f.name, f.min_supported_version, f.max_supported_version) for f in rec.features),
            directories=tuple(rec.log_dirs),
            is_migrating_zk_broker=rec.is_migrating_zk_broker,
        )

    def to_record(self) -> Any:
        return r.RegisterBrokerRecord(
            broker_id=self.id,
            is_migrating_zk_broker=self.is_migrating_zk_broker,
            incarnation_id=self.incarnation_id,
            broker_epoch=self.epoch,
            end_points=[r.BrokerEndpoint(name=e.name, host=e.host, port=e.port,
                                         security_protocol=e.security_protocol) for e in self.endpoints],
            features=[r.BrokerFeature(name=n, min_supported_version=lo, max_supported_version=hi)
                      for n, lo, hi in self.features],
            rack=self.rack,
            fenced=self.fenced,
            in_controlled_shutdown=self.in_controlled_shutdown,
            log_dirs=list(self.directories),
        )


# ---------------------------------------------------------------------------------------------
# partitions and topics


@dataclass(frozen=True, slots=True)
class PartitionRegistration:
    """One partition's replicas, ISR and leadership, as the controller last recorded them."""

    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    leader: int
    leader_epoch: int = 0
    partition_epoch: int = 0
    removing_replicas: tuple[int, ...] = ()
    adding_replicas: tuple[int, ...] = ()
    leader_recovery_state: int = LeaderRecoveryState.RECOVERED
    directories: tuple[uuid.UUID, ...] = ()
    elr: tuple[int, ...] | None = None
    last_known_elr: tuple[int, ...] | None = None

    @property
    def has_leader(self) -> bool:
        return self.leader != NO_LEADER

    @classmethod
    def from_record(cls, rec: Any) -> PartitionRegistration:
        directories = tuple(rec.directories) or (UNASSIGNED_DIRECTORY,) * len(rec.replicas)
        return cls(
            replicas=tuple(rec.replicas),
            isr=tuple(rec.isr),
            leader=rec.leader,
            leader_epoch=rec.leader_epoch,
            partition_epoch=rec.partition_epoch,
            removing_replicas=tuple(rec.removing_replicas or ()),
            adding_replicas=tuple(rec.adding_replicas or ()),
            leader_recovery_state=rec.leader_recovery_state,
            directories=directories,
            elr=None if rec.eligible_leader_replicas is None else tuple(rec.eligible_leader_replicas),
            last_known_elr=None if rec.last_known_elr is None else tuple(rec.last_known_elr),
        )

    def to_record(self, topic_id: uuid.UUID, partition: int) -> Any:
        return r.PartitionRecord(
            partition_id=partition,
            topic_id=topic_id,
            replicas=list(self.replicas),
            isr=list(self.isr),
            removing_replicas=list(self.removing_replicas),
            adding_replicas=list(self.adding_replicas),
            leader=self.leader,
            leader_recovery_state=self.leader_recovery_state,
            leader_epoch=self.leader_epoch,
            partition_epoch=self.partition_epoch,
            directories=list(self.directories),
            eligible_leader_replicas=None if self.elr is None else list(self.elr),
            last_known_elr=None if self.last_known_elr is None else list(self.last_known_elr),
        )

    def merge(self, change: Any) -> PartitionRegistration:
        """Apply a PartitionChangeRecord as Kafka does: null fields keep their value; a leader
        other than -2 bumps the leader epoch; every change bumps the partition epoch."""
        replicas = self.replicas if change.replicas is None else tuple(change.replicas)
        if change.directories is not None:
            directories = tuple(change.directories)
        elif change.replicas is not None:
            old = dict(zip(self.replicas, self.directories))
            directories = tuple(old.get(b, UNASSIGNED_DIRECTORY) for b in replicas)
        else:
            directories = self.directories
        if change.leader == LEADER_UNCHANGED:
            leader, leader_epoch = self.leader, self.leader_epoch
        else:
            leader, leader_epoch = change.leader, self.leader_epoch + 1
        return PartitionRegistration(
            replicas=replicas,
            isr=self.isr if change.isr is None else tuple(change.isr),
            leader=leader,
            leader_epoch=leader_epoch,
            partition_epoch=self.partition_epoch + 1,
            removing_replicas=self.removing_replicas if change.removing_replicas is None
            else tuple(change.removing_replicas),
            adding_replicas=self.adding_replicas if change.adding_replicas is None
            else tuple(change.adding_replicas),
            leader_recovery_state=self.leader_recovery_state if change.leader_recovery_state == -1
            else change.leader_recovery_state,
            directories=directories,
            elr=self.elr if change.eligible_leader_replicas is None else tuple(change.eligible_leader_replicas),
            last_known_elr=self.last_known_elr if change.last_known_elr is None
            else tuple(change.last_known_elr),
        )


@dataclass(frozen=True, slots=True)
class TopicImage:
    """A topic: its name, id and partitions (partition index -> registration)."""

    name: str
    topic_id: uuid.UUID
    partitions: Mapping[int, PartitionRegistration] = field(default_factory=lambda: _EMPTY)

    def partition(self, index: int) -> PartitionRegistration | None:
        return self.partitions.get(index)

    @property
    def num_partitions(self) -> int:
        return len(self.partitions)

    @property
    def replication_factor(self) -> int:
        first = self.partitions.get(0)
        return len(first.replicas) if first is not None else 0

    def to_records(self) -> list[Any]:
        out = [r.TopicRecord(name=self.name, topic_id=self.topic_id)]
        for p in sorted(self.partitions):
            out.append(self.partitions[p].to_record(self.topic_id, p))
        return out


# ---------------------------------------------------------------------------------------------
# the image


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where an image comes from: the last log offset and epoch it contains, and that
    batch's append time. (-1, -1, -1) for an empty image."""

    offset: int = -1
    epoch: int = -1
    log_time_ms: int = -1


@dataclass(frozen=True, slots=True)
class QuorumInfo:
    """The metadata quorum's leader (the active controller) as last learned from raft."""

    leader_id: int = -1
    epoch: int = -1


def _normalized(name: str) -> str:
    return name.replace(".", "_")


def _has_collision_chars(name: str) -> bool:
    return "." in name or "_" in name


@dataclass(frozen=True, slots=True)
class MetadataImage:
    """All cluster metadata at one offset of the metadata log. Never mutated.

    Equality compares metadata only: the provenance (offset) and the quorum leader are
    left out, so the image rebuilt from a restarted log equals the one before the restart.
    """

    cluster_id: str
    features: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    brokers: Mapping[int, BrokerRegistration] = field(default_factory=lambda: _EMPTY)
    topics_by_id: Mapping[uuid.UUID, TopicImage] = field(default_factory=lambda: _EMPTY)
    topics_by_name: Mapping[str, TopicImage] = field(default_factory=lambda: _EMPTY)
    configs: Mapping[ConfigResource, Mapping[str, str]] = field(default_factory=lambda: _EMPTY)
    next_producer_id: int = 0
    provenance: Provenance = field(default=Provenance(), compare=False)
    quorum: QuorumInfo = field(default=QuorumInfo(), compare=False)
    # normalized name ('.' -> '_') -> the topic names that map to it, for names with '.' or '_'
    collision_names: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: _EMPTY, compare=False, repr=False)

    @classmethod
    def empty(cls, cluster_id: str = "") -> MetadataImage:
        return cls(cluster_id)

    # -- provenance ----------------------------------------------------------------------

    @property
    def offset(self) -> int:
        """The last metadata log offset this image contains (-1 when empty)."""
        return self.provenance.offset

    @property
    def epoch(self) -> int:
        return self.provenance.epoch

    @property
    def controller_id(self) -> int:
        """The active controller (the quorum leader), -1 when unknown."""
        return self.quorum.leader_id

    @property
    def is_empty(self) -> bool:
        return not (self.features or self.brokers or self.topics_by_id or self.configs
                    or self.next_producer_id)

    # -- lookups -------------------------------------------------------------------------

    @property
    def metadata_version(self) -> int:
        return self.features.get(METADATA_VERSION, 0)

    def topic(self, name: str) -> TopicImage | None:
        return self.topics_by_name.get(name)

    def topic_by_id(self, topic_id: uuid.UUID) -> TopicImage | None:
        return self.topics_by_id.get(topic_id)

    def partition(self, topic: str, index: int) -> PartitionRegistration | None:
        t = self.topics_by_name.get(topic)
        return None if t is None else t.partitions.get(index)

    def broker(self, broker_id: int) -> BrokerRegistration | None:
        return self.brokers.get(broker_id)

    def config(self, resource: ConfigResource) -> Mapping[str, str]:
        """The explicitly set configs of a resource (empty when none)."""
        return self.configs.get(resource, _EMPTY)

    def topic_config(self, topic: str) -> Mapping[str, str]:
        return self.configs.get(ConfigResource(ConfigResourceType.TOPIC, topic), _EMPTY)

    def broker_config(self, broker_id: int | None) -> Mapping[str, str]:
        """A broker's dynamic configs; None gives the cluster-wide broker defaults."""
        name = "" if broker_id is None else str(broker_id)
        return self.configs.get(ConfigResource(ConfigResourceType.BROKER, name), _EMPTY)

    def colliding_topic(self, name: str) -> str | None:
        """An existing topic other than `name` whose name differs only in '.' versus '_'."""
        if not _has_collision_chars(name):
            return None
        for other in sorted(self.collision_names.get(_normalized(name), ())):
            if other != name:
                return other
        return None

    # -- snapshots -----------------------------------------------------------------------

    def to_records(self) -> list[Any]:
        """Records that rebuild this image from an empty one (snapshot contents), in Kafka's
        order: features (metadata.version first), brokers, topics, configs, producer ids."""
        out: list[Any] = []
        names = sorted(self.features, key=lambda n: (n != METADATA_VERSION, n))
        out += [r.FeatureLevelRecord(name=n, feature_level=self.features[n]) for n in names]
        out += [self.brokers[b].to_record() for b in sorted(self.brokers)]
        for name in sorted(self.topics_by_name):
            out += self.topics_by_name[name].to_records()
        for res in sorted(self.configs):
            values = self.configs[res]
            out += [r.ConfigRecord(resource_type=res.type, resource_name=res.name, name=k, value=values[k])
                    for k in sorted(values)]
        if self.next_producer_id:
            out.append(r.ProducerIdsRecord(broker_id=-1, broker_epoch=-1,
                                           next_producer_id=self.next_producer_id))
        return out

    def with_quorum(self, quorum: QuorumInfo) -> MetadataImage:
        return replace(self, quorum=quorum)

    def with_provenance(self, provenance: Provenance) -> MetadataImage:
        return replace(self, provenance=provenance)


# ---------------------------------------------------------------------------------------------
# deltas


class TopicDelta:
    """The changes to one topic within a delta: new or changed partition registrations."""

    __slots__ = ("base", "topic_id", "name", "partitions")

    def __init__(self, base: TopicImage | None, topic_id: uuid.UUID, name: str) -> None:
        self.base = base
        self.topic_id = topic_id
        self.name = name
        self.partitions: dict[int, PartitionRegistration] = {}

    @property
    def created(self) -> bool:
        return self.base is None

    def registration(self, index: int) -> PartitionRegistration | None:
        reg = self.partitions.get(index)
        if reg is None and self.base is not None:
            reg = self.base.partitions.get(index)
        return reg

    def previous(self, index: int) -> PartitionRegistration | None:
        """The registration before this delta (None for a new partition)."""
        return None if self.base is None else self.base.partitions.get(index)

    def apply(self) -> TopicImage:
        if self.base is None:
            parts = dict(self.partitions)
        elif self.partitions:
            parts = self.base.partitions.copy()  # type: ignore[attr-defined]
            parts.update(self.partitions)
        else:
            return self.base
        return TopicImage(self.name, self.topic_id, MappingProxyType(parts))


@dataclass(frozen=True, slots=True)
class PartitionChange:
    topic_id: uuid.UUID
    topic: str
    partition: int
    old: PartitionRegistration | None
    new: PartitionRegistration


@dataclass(slots=True)
class LocalReplicaChanges:
    """What one broker must do after a delta (as Kafka's TopicsDelta.localChanges):
    delete replicas it no longer hosts, become leader or follower of the others."""

    deletes: list[tuple[uuid.UUID, str, int]]
    leaders: list[PartitionChange]
    followers: list[PartitionChange]


class MetadataDelta:
    """The changes that a run of records makes to a base image. Records replay one by one;
    `apply()` builds the next image sharing everything that did not change."""

    def __init__(self, image: MetadataImage) -> None:
        self.image = image
        self.features: dict[str, int | None] = {}
        self.brokers: dict[int, BrokerRegistration | None] = {}
        self.topics: dict[uuid.UUID, TopicDelta] = {}
        self._created_names: dict[str, uuid.UUID] = {}
        self.deleted_topics: dict[uuid.UUID, TopicImage] = {}
        self.configs: dict[ConfigResource, dict[str, str | None]] = {}
        self.next_producer_id: int | None = None
        self.record_count = 0

    @classmethod
    def between(cls, old: MetadataImage, new: MetadataImage) -> MetadataDelta:
        """The delta that turns `old` into `new` (e.g. when a snapshot replaces the image, or
        for a publisher that joins late: between the empty image and the current one)."""
        d = cls(old)
        for name in set(old.features) | set(new.features):
            if old.features.get(name) != new.features.get(name):
                d.features[name] = new.features.get(name)
        for bid in set(old.brokers) | set(new.brokers):
            if old.brokers.get(bid) != new.brokers.get(bid):
                d.brokers[bid] = new.brokers.get(bid)
        for tid, topic in old.topics_by_id.items():
            if tid not in new.topics_by_id:
                d.deleted_topics[tid] = topic
        for tid, topic in new.topics_by_id.items():
            before = old.topics_by_id.get(tid)
            if before is topic or before == topic:
                continue
            td = TopicDelta(before, tid, topic.name)
            for p, reg in topic.partitions.items():
                if before is None or before.partitions.get(p) != reg:
                    td.partitions[p] = reg
            d.topics[tid] = td
            if before is None:
                d._created_names[topic.name] = tid
        for res in set(old.configs) | set(new.configs):
            a, b = old.configs.get(res, _EMPTY), new.configs.get(res, _EMPTY)
            if a != b:
                d.configs[res] = {k: b.get(k) for k in set(a) | set(b) if a.get(k) != b.get(k)}
        if old.next_producer_id != new.next_producer_id:
            d.next_producer_id = new.next_producer_id
        return d

    # -- replay --------------------------------------------------------------------------

    def replay(self, record: Any) -> None:
        handler = _REPLAY.get(type(record))
        if handler is None:
            raise MetadataApplyError(f"cannot apply {type(record).__name__}")
        handler(self, record)
        self.record_count += 1

    def replay_all(self, records: Iterable[Any]) -> MetadataDelta:
        for rec in records:
            self.replay(rec)
        return self

    def _broker(self, broker_id: int) -> BrokerRegistration | None:
        if broker_id in self.brokers:
            return self.brokers[broker_id]
        return self.image.brokers.get(broker_id)

    def _broker_with_epoch(self, broker_id: int, epoch: int, what: str) -> BrokerRegistration:
        reg = self._broker(broker_id)
        if reg is None:
            raise MetadataApplyError(f"cannot {what} broker {broker_id}: it is not registered")
        if reg.epoch != epoch:
            raise MetadataApplyError(
                f"cannot {what} broker {broker_id}: epoch {epoch} is not its epoch {reg.epoch}")
        return reg

    def _register_broker(self, rec: Any) -> None:
        self.brokers[rec.broker_id] = BrokerRegistration.from_record(rec)

    def _unregister_broker(self, rec: Any) -> None:
        if self._broker(rec.broker_id) is None:
            raise MetadataApplyError(f"cannot unregister unknown broker {rec.broker_id}")
        self.brokers[rec.broker_id] = None

    def _fence(self, rec: Any) -> None:
        reg = self._broker_with_epoch(rec.id, rec.epoch, "fence")
        self.brokers[rec.id] = replace(reg, fenced=True)

    def _unfence(self, rec: Any) -> None:
        reg = self._broker_with_epoch(rec.id, rec.epoch, "unfence")
        self.brokers[rec.id] = replace(reg, fenced=False)

    def _broker_change(self, rec: Any) -> None:
        reg = self._broker_with_epoch(rec.broker_id, rec.broker_epoch, "change")
        changes: dict[str, Any] = {}
        if rec.fenced == 1:
            changes["fenced"] = True
        elif rec.fenced == -1:
            changes["fenced"] = False
        elif rec.fenced != 0:
            raise MetadataApplyError(f"invalid fencing change {rec.fenced}")
        if rec.in_controlled_shutdown == 1:
            changes["in_controlled_shutdown"] = True
        elif rec.in_controlled_shutdown != 0:
            raise MetadataApplyError(f"invalid controlled shutdown change {rec.in_controlled_shutdown}")
        if rec.log_dirs:
            changes["directories"] = tuple(rec.log_dirs)
        self.brokers[rec.broker_id] = replace(reg, **changes)

    def _topic_delta(self, topic_id: uuid.UUID, what: str) -> TopicDelta:
        td = self.topics.get(topic_id)
        if td is None:
            base = self.image.topics_by_id.get(topic_id)
            if base is None or topic_id in self.deleted_topics:
                raise MetadataApplyError(f"{what} names unknown topic id {topic_id}")
            td = self.topics[topic_id] = TopicDelta(base, topic_id, base.name)
        return td

    def _topic(self, rec: Any) -> None:
        tid = rec.topic_id
        if tid in self.topics or (tid in self.image.topics_by_id and tid not in self.deleted_topics):
            raise MetadataApplyError(f"topic id {tid} already exists")
        existing = self.image.topics_by_name.get(rec.name)
        if existing is not None and existing.topic_id not in self.deleted_topics:
            raise MetadataApplyError(f"topic {rec.name!r} already exists")
        if rec.name in self._created_names:
            raise MetadataApplyError(f"topic {rec.name!r} already exists")
        self.topics[tid] = TopicDelta(None, tid, rec.name)
        self._created_names[rec.name] = tid

    def _partition(self, rec: Any) -> None:
        td = self._topic_delta(rec.topic_id, "PartitionRecord")
        td.partitions[rec.partition_id] = PartitionRegistration.from_record(rec)

    def _partition_change(self, rec: Any) -> None:
        td = self._topic_delta(rec.topic_id, "PartitionChangeRecord")
        reg = td.registration(rec.partition_id)
        if reg is None:
            raise MetadataApplyError(f"PartitionChangeRecord for unknown partition {rec.partition_id}")
        td.partitions[rec.partition_id] = reg.merge(rec)

    def _remove_topic(self, rec: Any) -> None:
        tid = rec.topic_id
        td = self.topics.pop(tid, None)
        base = self.image.topics_by_id.get(tid)
        if td is None and (base is None or tid in self.deleted_topics):
            raise MetadataApplyError(f"RemoveTopicRecord names unknown topic id {tid}")
        name = td.name if td is not None else base.name  # type: ignore[union-attr]
        if td is not None and td.created:
            del self._created_names[name]
        if base is not None and (td is None or not td.created):
            self.deleted_topics[tid] = base
        # A topic's configs go with it, as in Kafka.
        res = ConfigResource(ConfigResourceType.TOPIC, name)
        cleared = {k: None for k in self.image.configs.get(res, _EMPTY)}
        cleared.update({k: None for k in self.configs.get(res, {})})
        if cleared:
            self.configs[res] = cleared

    def _config(self, rec: Any) -> None:
        res = ConfigResource(rec.resource_type, rec.resource_name)
        self.configs.setdefault(res, {})[rec.name] = rec.value

    def _feature(self, rec: Any) -> None:
        self.features[rec.name] = rec.feature_level or None

    def _producer_ids(self, rec: Any) -> None:
        self.next_producer_id = rec.next_producer_id

    def _no_op(self, rec: Any) -> None:
        pass

    # -- what changed --------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        return not (self.features or self.brokers or self.topics or self.deleted_topics
                    or self.configs or self.next_producer_id is not None)

    @property
    def created_topics(self) -> dict[uuid.UUID, TopicDelta]:
        return {tid: td for tid, td in self.topics.items() if td.created}

    @property
    def changed_topic_configs(self) -> set[str]:
        """Names of the topics whose explicit configs changed (deleted topics included)."""
        return {res.name for res in self.configs if res.type == ConfigResourceType.TOPIC}

    def partition_changes(self) -> Iterator[PartitionChange]:
        """Every partition created or changed (topics deleted are in `deleted_topics`)."""
        for tid, td in self.topics.items():
            for p, reg in td.partitions.items():
                yield PartitionChange(tid, td.name, p, td.previous(p), reg)

    def broker_changes(self) -> dict[int, tuple[BrokerRegistration | None, BrokerRegistration | None]]:
        return {b: (self.image.brokers.get(b), reg) for b, reg in self.brokers.items()}

    def local_changes(self, broker_id: int) -> LocalReplicaChanges:
        """The replicas `broker_id` must delete, lead, or follow after this delta."""
        deletes: list[tuple[uuid.UUID, str, int]] = []
        leaders: list[PartitionChange] = []
        followers: list[PartitionChange] = []
        for tid, topic in self.deleted_topics.items():
            for p, reg in topic.partitions.items():
                if broker_id in reg.replicas:
                    deletes.append((tid, topic.name, p))
        for change in self.partition_changes():
            old, new = change.old, change.new
            if broker_id not in new.replicas:
                if old is not None and broker_id in old.replicas:
                    deletes.append((change.topic_id, change.topic, change.partition))
                continue
            if new.leader == broker_id:
                if old is None or old.leader != broker_id or old.leader_epoch != new.leader_epoch \
                        or broker_id not in old.replicas:
                    leaders.append(change)
            elif old is None or old.leader != new.leader or old.leader_epoch != new.leader_epoch \
                    or broker_id not in old.replicas:
                followers.append(change)
        return LocalReplicaChanges(deletes, leaders, followers)

    # -- the next image ------------------------------------------------------------------

    def apply(self, provenance: Provenance | None = None) -> MetadataImage:
        img = self.image
        features = img.features
        if self.features:
            f = features.copy()  # type: ignore[attr-defined]
            for name, level in self.features.items():
                if level is None:
                    f.pop(name, None)
                else:
                    f[name] = level
            features = MappingProxyType(f)
        brokers = img.brokers
        if self.brokers:
            b = brokers.copy()  # type: ignore[attr-defined]
            for bid, reg in self.brokers.items():
                if reg is None:
                    b.pop(bid, None)
                else:
                    b[bid] = reg
            brokers = MappingProxyType(b)
        by_id, by_name, collisions = img.topics_by_id, img.topics_by_name, img.collision_names
        if self.topics or self.deleted_topics:
            ids = by_id.copy()  # type: ignore[attr-defined]
            names = by_name.copy()  # type: ignore[attr-defined]
            coll: dict[str, frozenset[str]] | None = None
            for tid, old in self.deleted_topics.items():
                del ids[tid]
                del names[old.name]
                if _has_collision_chars(old.name):
                    coll = coll if coll is not None else collisions.copy()  # type: ignore[attr-defined]
                    key = _normalized(old.name)
                    rest = coll.get(key, frozenset()) - {old.name}
                    if rest:
                        coll[key] = rest
                    else:
                        coll.pop(key, None)
            for tid, td in self.topics.items():
                topic = td.apply()
                ids[tid] = topic
                names[topic.name] = topic
                if td.created and _has_collision_chars(topic.name):
                    coll = coll if coll is not None else collisions.copy()  # type: ignore[attr-defined]
                    key = _normalized(topic.name)
                    coll[key] = coll.get(key, frozenset()) | {topic.name}
            by_id, by_name = MappingProxyType(ids), MappingProxyType(names)
            if coll is not None:
                collisions = MappingProxyType(coll)
        configs = img.configs
        if self.configs:
            c = configs.copy()  # type: ignore[attr-defined]
            for res, changes in self.configs.items():
                values = dict(c.get(res, _EMPTY))
                for key, value in changes.items():
                    if value is None:
                        values.pop(key, None)
                    else:
                        values[key] = value
                if values:
                    c[res] = MappingProxyType(values)
                else:
                    c.pop(res, None)
            configs = MappingProxyType(c)
        return MetadataImage(
            cluster_id=img.cluster_id,
            features=features,
            brokers=brokers,
            topics_by_id=by_id,
            topics_by_name=by_name,
            configs=configs,
            next_producer_id=img.next_producer_id if self.next_producer_id is None else self.next_producer_id,
            provenance=img.provenance if provenance is None else provenance,
            quorum=img.quorum,
            collision_names=collisions,
        )


_REPLAY = {
    r.RegisterBrokerRecord: MetadataDelta._register_broker,
    r.UnregisterBrokerRecord: MetadataDelta._unregister_broker,
    r.TopicRecord: MetadataDelta._topic,
    r.PartitionRecord: MetadataDelta._partition,
    r.ConfigRecord: MetadataDelta._config,
    r.PartitionChangeRecord: MetadataDelta._partition_change,
    r.FenceBrokerRecord: MetadataDelta._fence,
    r.UnfenceBrokerRecord: MetadataDelta._unfence,
    r.RemoveTopicRecord: MetadataDelta._remove_topic,
    r.FeatureLevelRecord: MetadataDelta._feature,
    r.ProducerIdsRecord: MetadataDelta._producer_ids,
    r.BrokerRegistrationChangeRecord: MetadataDelta._broker_change,
    r.NoOpRecord: MetadataDelta._no_op,
}


def image_from_records(records: Iterable[Any], cluster_id: str = "",
                       provenance: Provenance | None = None) -> MetadataImage:
    """Build an image from an empty one (e.g. from a snapshot's records)."""
    return MetadataDelta(MetadataImage.empty(cluster_id)).replay_all(records).apply(provenance)
