"""Consuming for the tools: a fetcher over assigned partitions, and a member of a classic
consumer group (JoinGroup/SyncGroup with range assignment, heartbeats, offset commits)."""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from protocol import messages as m
from protocol.compiler import codec_for
from protocol.errors import CorruptRecordError, ErrorCode
from protocol.records import CONTROL_FLAG, LOG_OVERHEAD, decode_batch, record_timestamp
from pybroker.tools.client import Cluster, KafkaError
from pybroker.tools.protocol import UnsupportedApiError, check

EARLIEST, LATEST = -2, -1
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")

TopicPartition = tuple[str, int]


@dataclass(slots=True)
class ConsumedRecord:
    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int  # 0 CreateTime, 1 LogAppendTime
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]


# --- consumer protocol (the bytes inside JoinGroup/SyncGroup) ------------------------------------

def encode_subscription(topics: list[str]) -> bytes:
    codec = codec_for(m.data_spec("ConsumerProtocolSubscription"), 0)
    return _I16.pack(0) + codec.encode(m.ConsumerProtocolSubscription(topics=sorted(topics), user_data=None))


def decode_subscription(data: bytes | None) -> list[str]:
    if not data or len(data) < 2:
        return []
    (version,) = _I16.unpack_from(data, 0)
    codec = codec_for(m.data_spec("ConsumerProtocolSubscription"), min(max(version, 0), 3))
    return list(codec.decode(data, 2).topics)


def encode_assignment(assignment: dict[str, list[int]]) -> bytes:
    codec = codec_for(m.data_spec("ConsumerProtocolAssignment"), 0)
    A = m.ConsumerProtocolAssignment
    body = A(assigned_partitions=[A.TopicPartition(topic=t, partitions=sorted(ps)) for t, ps in sorted(assignment.items())],
             user_data=None)
    return _I16.pack(0) + codec.encode(body)


def decode_assignment(data: bytes | None) -> list[TopicPartition]:
    if not data or len(data) < 2:
        return []
    (version,) = _I16.unpack_from(data, 0)
    codec = codec_for(m.data_spec("ConsumerProtocolAssignment"), min(max(version, 0), 3))
    return [(tp.topic, p) for tp in codec.decode(data, 2).assigned_partitions for p in tp.partitions]


def range_assign(subscriptions: dict[str, list[str]], partition_counts: dict[str, int]) -> dict[str, dict[str, list[int]]]:
    """Kafka's RangeAssignor: per topic, consecutive partition ranges to the subscribed members
    in member id order, the first members taking one extra when it does not divide evenly."""
    out: dict[str, dict[str, list[int]]] = {member: {} for member in subscriptions}
    for topic in sorted({t for ts in subscriptions.values() for t in ts}):
        members = sorted(mid for mid, ts in subscriptions.items() if topic in ts)
        count = partition_counts.get(topic, 0)
        if not members or count <= 0:
            continue
        per, extra = divmod(count, len(members))
        start = 0
        for i, member in enumerate(members):
            n = per + (1 if i < extra else 0)
            if n:
                out[member][topic] = list(range(start, start + n))
            start += n
    return out


# --- fetching ----------------------------------------------------------------------------------

class Fetcher:
    """Fetches from the leaders of assigned partitions, from positions it keeps."""

    def __init__(self, cluster: Cluster, *, reset: int = LATEST, max_wait_ms: int = 500,
                 max_bytes: int = 50 * 1024 * 1024, partition_max_bytes: int = 1024 * 1024,
                 isolation_level: int = 0) -> None:
        self.cluster = cluster
        self.reset = reset
        self.max_wait_ms = max_wait_ms
        self.max_bytes = max_bytes
        self.partition_max_bytes = partition_max_bytes
        self.isolation_level = isolation_level
        self.positions: dict[TopicPartition, int] = {}

    def assign(self, positions: dict[TopicPartition, int]) -> None:
        """Set the assignment; EARLIEST/LATEST or a negative position resolve through ListOffsets."""
        wanted = {tp: off for tp, off in positions.items() if off < 0}
        if wanted:
            resolved = self.cluster.list_offsets(wanted, isolation_level=self.isolation_level)
            positions = {**positions, **resolved}
        self.positions = dict(positions)

    def seek_to(self, tps: Iterable[TopicPartition], where: int) -> None:
        resolved = self.cluster.list_offsets({tp: where for tp in tps}, isolation_level=self.isolation_level)
        self.positions.update(resolved)

    def poll(self, max_wait_ms: int | None = None) -> list[ConsumedRecord]:
        """One fetch round over every leader; returns records in partition order."""
        if not self.positions:
            time.sleep((self.max_wait_ms if max_wait_ms is None else max_wait_ms) / 1000)
            return []
        wait = self.max_wait_ms if max_wait_ms is None else max_wait_ms
        by_leader: dict[int, list[TopicPartition]] = {}
        for tp in self.positions:
            try:
                leader = self.cluster.leader(*tp)
            except KafkaError:
                continue
            by_leader.setdefault(leader, []).append(tp)
        if len(by_leader) > 1:
            wait = min(wait, 100)
        records: list[ConsumedRecord] = []
        refresh = False
        out_of_range: list[TopicPartition] = []
        for leader, tps in by_leader.items():
            try:
                conn = self.cluster.connection(leader)
                response = conn.request(1, self._request(tps, wait), timeout=conn.timeout + wait / 1000)
            except (OSError, TimeoutError, KafkaError):
                refresh = True
                continue
            if response.error_code:
                refresh = True
                continue
            for t in response.responses:
                for p in t.partitions:
                    tp = (t.topic, p.partition_index)
                    code = ErrorCode.for_code(p.error_code)
                    if code == ErrorCode.OFFSET_OUT_OF_RANGE:
                        out_of_range.append(tp)
                        continue
                    if code != ErrorCode.NONE:
                        if code.retriable:
                            refresh = True
                            continue
                        raise KafkaError(code, f"fetching {t.topic}-{p.partition_index}")
                    records += self._decode(tp, p.records)
            if records:
                wait = 0
        if out_of_range:
            self.seek_to(out_of_range, self.reset)
        if refresh:
            time.sleep(0.1)
            for topic in {tp[0] for tp in self.positions}:
                try:
                    self.cluster.topic(topic)
                except KafkaError:
                    pass
        return records

    def _request(self, tps: list[TopicPartition], wait_ms: int) -> Any:
        F = m.FetchRequest
        topics: dict[str, Any] = {}
        for topic, partition in tps:
            t = topics.get(topic)
            if t is None:
                t = topics[topic] = F.FetchTopic(topic=topic, partitions=[])
            t.partitions.append(F.FetchPartition(partition=partition, fetch_offset=self.positions[(topic, partition)],
                                                 log_start_offset=-1, partition_max_bytes=self.partition_max_bytes))
        return F(replica_id=-1, max_wait_ms=wait_ms, min_bytes=1, max_bytes=self.max_bytes,
                 isolation_level=self.isolation_level, session_id=0, session_epoch=-1,
                 topics=list(topics.values()), forgotten_topics_data=[], rack_id="")

    def _decode(self, tp: TopicPartition, data: Any) -> list[ConsumedRecord]:
        if not data:
            return []
        buf = bytes(data)
        position = self.positions[tp]
        out: list[ConsumedRecord] = []
        pos = 0
        while pos + LOG_OVERHEAD + 5 <= len(buf):
            (length,) = _I32.unpack_from(buf, pos + 8)
            end = pos + LOG_OVERHEAD + length
            if end > len(buf):
                break  # a partial batch at the end of a fetch
            try:
                header, batch_records = decode_batch(buf, pos)
            except CorruptRecordError as exc:
                raise KafkaError(ErrorCode.CORRUPT_MESSAGE, f"{tp[0]}-{tp[1]} at offset {position}: {exc}") from None
            pos = end
            if not header.attributes & CONTROL_FLAG:
                for r in batch_records:
                    offset = header.base_offset + r.offset_delta
                    if offset < position:
                        continue  # a compressed batch starts before the position asked for
                    out.append(ConsumedRecord(tp[0], tp[1], offset, record_timestamp(header, r),
                                              header.timestamp_type, r.key, r.value, list(r.headers)))
            position = max(position, header.base_offset + header.last_offset_delta + 1)
        self.positions[tp] = position
        return out


# --- group membership ---------------------------------------------------------------------------

@dataclass
class GroupMember:
    """A member of a classic consumer group subscribed to some topics."""

    cluster: Cluster
    group_id: str
    topics: list[str]
    session_timeout_ms: int = 45_000
    rebalance_timeout_ms: int = 60_000
    heartbeat_interval_ms: int = 3_000
    member_id: str = ""
    generation_id: int = -1
    assignment: list[TopicPartition] = field(default_factory=list)
    _last_heartbeat: float = 0.0

    def _call(self, api_key: int, build: Any, error_of: Any, timeout: float | None = None) -> Any:
        conn = self.cluster.coordinator(self.group_id)
        if not conn.supports(api_key):
            raise UnsupportedApiError(f"the coordinator does not serve API {api_key}")
        response = conn.request(api_key, build(conn), timeout=timeout)
        code = ErrorCode.for_code(error_of(response))
        if code in (ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE):
            # Found again on the next call.
            conn.close()
        return response

    def join(self) -> list[TopicPartition]:
        """Join (or rejoin) the group and return this member's assignment."""
        deadline = time.monotonic() + self.rebalance_timeout_ms / 1000 + self.cluster.timeout
        while True:
            if time.monotonic() > deadline:
                raise KafkaError(ErrorCode.REBALANCE_IN_PROGRESS, f"could not join group {self.group_id!r}")
            response = self._call(11, self._join_request, lambda r: r.error_code,
                                  timeout=self.rebalance_timeout_ms / 1000 + self.cluster.timeout)
            code = ErrorCode.for_code(response.error_code)
            if code == ErrorCode.MEMBER_ID_REQUIRED:
                self.member_id = response.member_id
                continue
            if code == ErrorCode.UNKNOWN_MEMBER_ID:
                self.member_id = ""
                continue
            if code in (ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE,
                        ErrorCode.COORDINATOR_LOAD_IN_PROGRESS):
                time.sleep(0.1)
                continue
            check(code, f"JoinGroup {self.group_id}")
            self.member_id = response.member_id
            self.generation_id = response.generation_id
            assignments = []
            if response.leader == self.member_id:
                subscriptions = {mem.member_id: decode_subscription(mem.metadata) for mem in response.members}
                counts = {}
                for topic in {t for ts in subscriptions.values() for t in ts}:
                    try:
                        counts[topic] = len(self.cluster.partitions(topic))
                    except KafkaError:
                        counts[topic] = 0
                plan = range_assign(subscriptions, counts)
                assignments = [m.SyncGroupRequest.SyncGroupRequestAssignment(member_id=mid, assignment=encode_assignment(a))
                               for mid, a in plan.items()]
            sync = self._call(14, lambda conn: m.SyncGroupRequest(
                group_id=self.group_id, generation_id=self.generation_id, member_id=self.member_id,
                group_instance_id=None, protocol_type="consumer", protocol_name="range", assignments=assignments),
                lambda r: r.error_code, timeout=self.rebalance_timeout_ms / 1000 + self.cluster.timeout)
            code = ErrorCode.for_code(sync.error_code)
            if code in (ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.ILLEGAL_GENERATION):
                continue
            if code == ErrorCode.UNKNOWN_MEMBER_ID:
                self.member_id = ""
                continue
            check(code, f"SyncGroup {self.group_id}")
            self.assignment = decode_assignment(sync.assignment)
            self._last_heartbeat = time.monotonic()
            return self.assignment

    def _join_request(self, conn: Any) -> Any:
        J = m.JoinGroupRequest
        return J(group_id=self.group_id, session_timeout_ms=self.session_timeout_ms,
                 rebalance_timeout_ms=self.rebalance_timeout_ms, member_id=self.member_id, group_instance_id=None,
                 protocol_type="consumer",
                 protocols=[J.JoinGroupRequestProtocol(name="range", metadata=encode_subscription(self.topics))],
                 reason=None)

    def heartbeat_due(self) -> bool:
        return time.monotonic() - self._last_heartbeat >= self.heartbeat_interval_ms / 1000

    def heartbeat(self) -> bool:
        """Send a heartbeat; False when the member must rejoin."""
        self._last_heartbeat = time.monotonic()
        try:
            response = self._call(12, lambda conn: m.HeartbeatRequest(
                group_id=self.group_id, generation_id=self.generation_id, member_id=self.member_id,
                group_instance_id=None), lambda r: r.error_code)
        except (OSError, TimeoutError):
            return True  # try again at the next interval
        code = ErrorCode.for_code(response.error_code)
        if code == ErrorCode.NONE:
            return True
        if code == ErrorCode.UNKNOWN_MEMBER_ID:
            self.member_id = ""
        if code in (ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID,
                    ErrorCode.FENCED_INSTANCE_ID):
            return False
        if code in (ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE,
                    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS):
            return True
        raise KafkaError(code, f"Heartbeat {self.group_id}")

    def committed(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        """Committed offsets of the partitions (-1 where none)."""
        return fetch_committed(self.cluster, self.group_id, tps)

    def commit(self, offsets: dict[TopicPartition, int]) -> bool:
        """Commit offsets as this member; False when the group has moved on (rejoin)."""
        if not offsets:
            return True
        response = self._call(8, lambda conn: commit_request(self.group_id, offsets, self.generation_id, self.member_id),
                              lambda r: _first_commit_error(r))
        code = ErrorCode.for_code(_first_commit_error(response))
        if code in (ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID):
            return False
        check(code, f"OffsetCommit {self.group_id}")
        return True

    def leave(self) -> None:
        if not self.member_id:
            return
        L = m.LeaveGroupRequest
        try:
            self._call(13, lambda conn: L(group_id=self.group_id, member_id=self.member_id,
                                          members=[L.MemberIdentity(member_id=self.member_id, group_instance_id=None,
                                                                    reason="the console consumer is closing")]),
                       lambda r: r.error_code, timeout=5)
        except (OSError, TimeoutError, KafkaError):
            pass
        self.member_id = ""
        self.generation_id = -1


def commit_request(group_id: str, offsets: dict[TopicPartition, int], generation_id: int = -1,
                   member_id: str = "") -> Any:
    C = m.OffsetCommitRequest
    topics: dict[str, Any] = {}
    for (topic, partition), offset in sorted(offsets.items()):
        t = topics.get(topic)
        if t is None:
            t = topics[topic] = C.OffsetCommitRequestTopic(name=topic, partitions=[])
        t.partitions.append(C.OffsetCommitRequestPartition(partition_index=partition, committed_offset=offset,
                                                           committed_leader_epoch=-1, committed_metadata=""))
    return C(group_id=group_id, generation_id_or_member_epoch=generation_id, member_id=member_id,
             group_instance_id=None, retention_time_ms=-1, topics=list(topics.values()))


def _first_commit_error(response: Any) -> int:
    for t in response.topics:
        for p in t.partitions:
            if p.error_code:
                return p.error_code
    return 0


def commit_offsets(cluster: Cluster, group_id: str, offsets: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
    """Commit offsets outside any generation (as admin tools do); returns per-partition errors."""
    response = cluster.group_request(group_id, 8, lambda conn: commit_request(group_id, offsets),
                                     _first_commit_error)
    return {(t.name, p.partition_index): p.error_code for t in response.topics for p in t.partitions}


def fetch_committed(cluster: Cluster, group_id: str, tps: list[TopicPartition] | None) -> dict[TopicPartition, int]:
    """A group's committed offsets: of the given partitions, or all of them (tps None)."""
    O = m.OffsetFetchRequest

    def build(conn: Any) -> Any:
        version = conn.version(9)
        by_topic: dict[str, list[int]] = {}
        for topic, partition in tps or ():
            by_topic.setdefault(topic, []).append(partition)
        if version >= 8:
            topics = None if tps is None else [O.OffsetFetchRequestTopics(name=t, partition_indexes=ps)
                                               for t, ps in by_topic.items()]
            return O(groups=[O.OffsetFetchRequestGroup(group_id=group_id, topics=topics)], require_stable=False)
        topics = None if tps is None else [O.OffsetFetchRequestTopic(name=t, partition_indexes=ps)
                                           for t, ps in by_topic.items()]
        return O(group_id=group_id, topics=topics, require_stable=False)

    def error_of(r: Any) -> int:
        if r.groups:
            return r.groups[0].error_code
        return r.error_code

    response = cluster.group_request(group_id, 9, build, error_of)
    check(error_of(response), f"OffsetFetch {group_id}")
    topics = response.groups[0].topics if response.groups else response.topics
    out: dict[TopicPartition, int] = {}
    for t in topics:
        for p in t.partitions:
            if p.error_code == 0:
                out[(t.name, p.partition_index)] = p.committed_offset
    return out
