"""A fake coordinator runtime for the group shard tests: it appends an operation's records to an
in-memory log, replays them, keeps the timers and fires them on a fake clock, and collects the
responses by token."""

from __future__ import annotations

import itertools
import uuid
from types import MappingProxyType
from typing import Any

from protocol import messages as M
from pybroker.config import BrokerConfig
from pybroker.coordinator.shard import CoordinatorRecord, Effects, TxnMarker
from pybroker.groups.shard import GroupCoordinatorShard
from pybroker.metadata.image import MetadataImage, PartitionRegistration, Provenance, TopicImage


def make_image(topics: dict[str, int], offset: int = 10, ids: dict[str, uuid.UUID] | None = None) -> MetadataImage:
    by_id = {}
    by_name = {}
    for name, n in topics.items():
        tid = (ids or {}).get(name) or uuid.uuid5(uuid.NAMESPACE_DNS, name)
        parts = {i: PartitionRegistration(replicas=(1,), isr=(1,), leader=1) for i in range(n)}
        t = TopicImage(name=name, topic_id=tid, partitions=MappingProxyType(parts))
        by_id[tid] = t
        by_name[name] = t
    return MetadataImage(cluster_id="c", topics_by_id=MappingProxyType(by_id),
                         topics_by_name=MappingProxyType(by_name), provenance=Provenance(offset, 1, 0))


def topic_id(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_DNS, name)


DEFAULT_OVERRIDES = {"group.initial.rebalance.delay.ms": 0, "group.min.session.timeout.ms": 10}


class Harness:
    """Drives a GroupCoordinatorShard as the runtime would."""

    def __init__(self, topics: dict[str, int] | None = None, overrides: dict[str, Any] | None = None) -> None:
        self.config = BrokerConfig.from_sources({}, {**DEFAULT_OVERRIDES, **(overrides or {})})
        self.image = make_image(topics if topics is not None else {"t": 6})
        self.now = 1_000_000
        self.log: list[tuple[CoordinatorRecord | TxnMarker, int, int]] = []
        self.timers: dict[Any, int] = {}
        self.responses: dict[Any, Any] = {}
        self._tokens = itertools.count()
        self._ids = itertools.count(1)
        self.shard = self._new_shard()
        self.shard.replay  # noqa: B018
        self.apply(self.shard.on_loaded(self.now))

    def _new_shard(self) -> GroupCoordinatorShard:
        return GroupCoordinatorShard(0, self.config, lambda: self.image,
                                     new_uuid=lambda: uuid.UUID(int=next(self._ids)))

    # -- the runtime loop --------------------------------------------------------------------

    def apply(self, fx: Effects) -> Effects:
        for r in fx.records:
            self.log.append((r, fx.producer_id, fx.producer_epoch))
            self.shard.replay(len(self.log) - 1, r, fx.producer_id, fx.producer_epoch)
        for key, deadline in fx.timers:
            if deadline is None:
                self.timers.pop(key, None)
            else:
                self.timers[key] = deadline
        for token, response in fx.responses:
            assert token not in self.responses, f"token {token} answered twice"
            self.responses[token] = response
        return fx

    def marker(self, producer_id: int, commit: bool) -> None:
        m = TxnMarker(producer_id, 0, commit)
        self.log.append((m, producer_id, 0))
        self.shard.replay(len(self.log) - 1, m, producer_id, 0)

    def call(self, method: str, request: Any, version: int, *, client_id: str = "client",
             client_host: str = "/127.0.0.1", **kwargs: Any) -> tuple[Any, Any]:
        """Run one operation; return (token, response or None if parked)."""
        token = next(self._tokens)
        fx = getattr(self.shard, method)(request, version, client_id, client_host, token, self.now, **kwargs)
        self.apply(fx)
        return token, self.responses.get(token)

    def advance(self, ms: int) -> None:
        """Move the clock forward, firing due timers in deadline order."""
        end = self.now + ms
        while True:
            due = [(d, k) for k, d in self.timers.items() if d <= end]
            if not due:
                break
            deadline, key = min(due, key=lambda x: (x[0], repr(x[1])))
            del self.timers[key]
            self.now = max(self.now, deadline)
            self.apply(self.shard.on_timer(key, self.now))
        self.now = end

    def set_image(self, topics: dict[str, int], offset: int = 20) -> None:
        self.image = make_image(topics, offset)
        self.apply(self.shard.on_metadata_update(self.image, self.now))

    def restart(self) -> GroupCoordinatorShard:
        """A fresh shard loaded from the log, as after a broker restart."""
        self.shard = self._new_shard()
        for offset, (r, pid, epoch) in enumerate(self.log):
            self.shard.replay(offset, r, pid, epoch)
        self.timers.clear()
        self.apply(self.shard.on_loaded(self.now))
        return self.shard

    # -- request builders ---------------------------------------------------------------------

    def join(self, group: str, member_id: str = "", *, version: int = 9, session: int = 10_000,
             rebalance: int = 30_000, protocols: list[tuple[str, bytes]] | None = None,
             instance_id: str | None = None, protocol_type: str = "consumer",
             client_id: str = "client") -> tuple[Any, Any]:
        req = M.JoinGroupRequest(
            group_id=group, session_timeout_ms=session, rebalance_timeout_ms=rebalance, member_id=member_id,
            group_instance_id=instance_id, protocol_type=protocol_type,
            protocols=[M.JoinGroupRequest.JoinGroupRequestProtocol(name=n, metadata=m)
                       for n, m in (protocols if protocols is not None else [("range", subscription(["t"]))])])
        return self.call("join_group", req, version, client_id=client_id)

    def sync(self, group: str, member_id: str, generation: int, assignments: dict[str, bytes] | None = None,
             *, version: int = 5, instance_id: str | None = None, protocol_type: str | None = None,
             protocol_name: str | None = None) -> tuple[Any, Any]:
        req = M.SyncGroupRequest(
            group_id=group, generation_id=generation, member_id=member_id, group_instance_id=instance_id,
            protocol_type=protocol_type, protocol_name=protocol_name,
            assignments=[M.SyncGroupRequest.SyncGroupRequestAssignment(member_id=m, assignment=a)
                         for m, a in (assignments or {}).items()])
        return self.call("sync_group", req, version)

    def heartbeat(self, group: str, member_id: str, generation: int, *, version: int = 4,
                  instance_id: str | None = None) -> Any:
        req = M.HeartbeatRequest(group_id=group, generation_id=generation, member_id=member_id,
                                 group_instance_id=instance_id)
        return self.call("heartbeat", req, version)[1]

    def leave(self, group: str, members: list[tuple[str, str | None]], *, version: int = 5) -> Any:
        if version < 3:
            req = M.LeaveGroupRequest(group_id=group, member_id=members[0][0])
        else:
            req = M.LeaveGroupRequest(group_id=group, members=[
                M.LeaveGroupRequest.MemberIdentity(member_id=m, group_instance_id=i) for m, i in members])
        return self.call("leave_group", req, version)[1]

    def commit(self, group: str, offsets: dict[tuple[str, int], int], *, generation: int = -1,
               member_id: str = "", version: int = 9, metadata: str | None = "",
               instance_id: str | None = None, retention_ms: int = -1, leader_epoch: int = -1) -> Any:
        topics: dict[str, list[Any]] = {}
        for (topic, p), o in offsets.items():
            topics.setdefault(topic, []).append(M.OffsetCommitRequest.OffsetCommitRequestPartition(
                partition_index=p, committed_offset=o, committed_metadata=metadata,
                committed_leader_epoch=leader_epoch))
        req = M.OffsetCommitRequest(
            group_id=group, generation_id_or_member_epoch=generation, member_id=member_id,
            group_instance_id=instance_id, retention_time_ms=retention_ms,
            topics=[M.OffsetCommitRequest.OffsetCommitRequestTopic(
                name=t, topic_id=self.image.topic(t).topic_id if self.image.topic(t) else uuid.UUID(int=0),
                partitions=ps) for t, ps in topics.items()])
        return self.call("offset_commit", req, version)[1]

    def fetch(self, group: str, topics: dict[str, list[int]] | None = None, *, version: int = 9,
              member_id: str | None = None, member_epoch: int = -1, require_stable: bool = False) -> Any:
        G = M.OffsetFetchRequest.OffsetFetchRequestGroup
        req = G(group_id=group, member_id=member_id, member_epoch=member_epoch,
                topics=None if topics is None else [
                    M.OffsetFetchRequest.OffsetFetchRequestTopics(
                        name=t, topic_id=self.image.topic(t).topic_id if self.image.topic(t) else uuid.UUID(int=0),
                        partition_indexes=ps) for t, ps in topics.items()])
        return self.call("offset_fetch", req, version, require_stable=require_stable)[1]

    def committed(self, group: str, topic: str = "t", partition: int = 0) -> int:
        resp = self.fetch(group, {topic: [partition]})
        return resp.topics[0].partitions[0].committed_offset

    def cg_heartbeat(self, group: str, member_id: str, epoch: int, *, topics: list[str] | None = None,
                     regex: str | None = None, owned: list[tuple[str, list[int]]] | None = None,
                     rebalance: int = -1, instance_id: str | None = None, assignor: str | None = None,
                     version: int = 1, rack: str | None = None) -> Any:
        TP = M.ConsumerGroupHeartbeatRequest.TopicPartitions
        req = M.ConsumerGroupHeartbeatRequest(
            group_id=group, member_id=member_id, member_epoch=epoch, instance_id=instance_id, rack_id=rack,
            rebalance_timeout_ms=rebalance, subscribed_topic_names=topics, subscribed_topic_regex=regex,
            server_assignor=assignor,
            topic_partitions=None if owned is None else [TP(topic_id=topic_id(t), partitions=ps) for t, ps in owned])
        return self.call("consumer_group_heartbeat", req, version)[1]


def subscription(topics: list[str], version: int = 0) -> bytes:
    from protocol.compiler import codec_for
    from protocol.messages import data_spec

    spec = data_spec("ConsumerProtocolSubscription")
    obj = M.ConsumerProtocolSubscription(topics=topics, user_data=None)
    return version.to_bytes(2, "big") + codec_for(spec, version).encode(obj)


def assignment(parts: dict[str, list[int]]) -> bytes:
    from protocol.compiler import codec_for
    from protocol.messages import data_spec

    spec = data_spec("ConsumerProtocolAssignment")
    A = M.ConsumerProtocolAssignment
    obj = A(assigned_partitions=[A.TopicPartition(topic=t, partitions=ps) for t, ps in parts.items()],
            user_data=None)
    return (0).to_bytes(2, "big") + codec_for(spec, 0).encode(obj)

