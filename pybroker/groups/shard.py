"""The group coordinator shard: the state machine of one `__consumer_offsets` partition.

Signatures (stable; the runtime and the request handlers are written against them)
----------------------------------------------------------------------------------

    GroupCoordinatorShard(partition: int, config: BrokerConfig,
                          metadata: Callable[[], MetadataImage], *,
                          new_uuid: Callable[[], uuid.UUID] = uuid.uuid4)

CoordinatorShard protocol (pybroker.coordinator.shard):

    replay(offset, record: CoordinatorRecord | TxnMarker, producer_id, producer_epoch) -> None
    on_loaded(now_ms) -> Effects          re-arms session timeouts and the offset expiry timer
    on_timer(key, now_ms) -> Effects      keys are tuples whose first item names the timer
    on_unloaded() -> Effects              answers every parked JoinGroup/SyncGroup NOT_COORDINATOR
    on_metadata_update(image, now_ms) -> Effects
                                          a new metadata image: consumer groups whose subscribed
                                          topics changed get a new target assignment

Requests. Every one is `(request, version, client_id, client_host, token, now_ms) -> Effects`,
where `request` is the decoded request (or, where noted, its per-group part) and `version` its
api version. Responses are Kafka response message objects (protocol.messages classes) to be
encoded at `version`, or the per-group struct of a multi-group response:

    join_group(JoinGroupRequest)              -> JoinGroupResponse. A member's JoinGroup may be
                                                 parked: its response then comes in the Effects of
                                                 a later operation or timer (same token).
    sync_group(SyncGroupRequest)              -> SyncGroupResponse, possibly parked likewise.
    heartbeat(HeartbeatRequest)               -> HeartbeatResponse
    leave_group(LeaveGroupRequest)            -> LeaveGroupResponse (v0-2: member_id; v3+: members)
    offset_commit(OffsetCommitRequest)        -> OffsetCommitResponse
    txn_offset_commit(TxnOffsetCommitRequest) -> TxnOffsetCommitResponse; the Effects carry
                                                 producer_id/producer_epoch (a transactional batch)
    offset_fetch(OffsetFetchRequest.OffsetFetchRequestGroup, ..., *, require_stable=False)
                                              -> OffsetFetchResponse.OffsetFetchResponseGroup.
                                                 One group of a v8+ request; for v1-7 build the
                                                 group part with pybroker.groups.api
                                                 (offset_fetch_groups / offset_fetch_response).
    offset_delete(OffsetDeleteRequest)        -> OffsetDeleteResponse
    list_groups(ListGroupsRequest)            -> list[ListGroupsResponse.ListedGroup] (this shard's)
    describe_groups(group_id: str)            -> DescribeGroupsResponse.DescribedGroup
    delete_groups(group_id: str)              -> DeleteGroupsResponse.DeletableGroupResult
    consumer_group_heartbeat(ConsumerGroupHeartbeatRequest)
                                              -> ConsumerGroupHeartbeatResponse
    consumer_group_describe(group_id: str)    -> ConsumerGroupDescribeResponse.DescribedGroup

`throttle_time_ms` and `authorized_operations` are left at their defaults for the handler.

What the shard assumes of the runtime
-------------------------------------
- An operation's records are replayed before the next operation or timer of the shard runs.
- Responses are released once the records of their operation, and of every operation before it,
  are committed; a response of an operation that writes nothing is likewise released only when
  everything before it is committed (Kafka reads at the last committed offset).
- Timer deadlines are absolute (`now_ms` clock). Timers are set even if the append fails.
- `metadata()` returns the latest image, at least as new as the last one given to
  `on_metadata_update` (subscribed topics are hashed from it to detect metadata changes).
- Records that do not decode, and share/streams group records, are skipped with a log line.
- pybroker.groups.api has `append_error` (Kafka's mapping of append errors to what a group
  client is told) and `failure_response` (a shard response turned into that error).
- Classic group membership is kept in memory, as Kafka keeps it; the GroupMetadata records this
  shard writes are snapshots that are not re-applied when replayed (Kafka's replayRecords=false).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from typing import Any, Callable, Hashable

from protocol.errors import DecodeError, ErrorCode
from protocol.messages import (
    ConsumerGroupDescribeResponse,
    DeleteGroupsResponse,
    DescribeGroupsResponse,
    OffsetDeleteResponse,
)

from pybroker.coordinator.shard import CoordinatorRecord, Effects, TxnMarker
from pybroker.groups import offsets as off
from pybroker.groups import records as rec
from pybroker.groups.classic import (
    HEARTBEAT_TIMER,
    JOIN_TIMER,
    SYNC_TIMER,
    ClassicGroup,
    ClassicGroups,
    ClassicState,
)
from pybroker.groups.consumer import REBALANCE_TIMER, SESSION_TIMER, ConsumerGroup, ConsumerGroups
from pybroker.groups.group import GroupError, GroupType
from pybroker.groups.records import RecordType

log = logging.getLogger(__name__)

EXPIRY_TIMER = "offsets-expiry"

_CONSUMER_RECORDS = frozenset({
    RecordType.CONSUMER_GROUP_METADATA, RecordType.CONSUMER_GROUP_PARTITION_METADATA,
    RecordType.CONSUMER_GROUP_MEMBER_METADATA, RecordType.CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA,
    RecordType.CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER, RecordType.CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT,
    RecordType.CONSUMER_GROUP_REGULAR_EXPRESSION,
})


class GroupCoordinatorShard:
    """Groups and committed offsets of one `__consumer_offsets` partition."""

    def __init__(self, partition: int, config: Any, metadata: Callable[[], Any], *,
                 new_uuid: Callable[[], uuid.UUID] = uuid.uuid4) -> None:
        self.partition = partition
        self.config = config
        self.metadata = metadata
        self.new_uuid = new_uuid
        self.groups: dict[str, ClassicGroup | ConsumerGroup] = {}
        self.offsets = off.OffsetStore()
        self.classic = ClassicGroups(self)
        self.consumer = ConsumerGroups(self)
        self.loaded = False
        # Classic GroupMetadata records this shard wrote: their replay must not reset the
        # in-memory group, which they only snapshot.
        self._own: Counter[tuple[bytes, bytes | None]] = Counter()
        self._known_topics: dict[uuid.UUID, str] = {}
        self._last_topics: Any = None

    def own_record(self, record: CoordinatorRecord) -> CoordinatorRecord:
        self._own[(record.key, record.value)] += 1
        return record

    # -- CoordinatorShard --------------------------------------------------------------------

    def replay(self, offset: int, record: CoordinatorRecord | TxnMarker, producer_id: int,
               producer_epoch: int) -> None:
        if isinstance(record, TxnMarker):
            self.offsets.replay_marker(record.producer_id, record.commit)
            return
        own_key = (record.key, record.value)
        if self._own.get(own_key):
            self._own[own_key] -= 1
            if not self._own[own_key]:
                del self._own[own_key]
            return
        try:
            d = rec.decode(record)
        except rec.UnknownRecordType as e:
            log.warning("__consumer_offsets-%d offset %d: %s; skipped", self.partition, offset, e)
            return
        except DecodeError as e:
            # A record that does not decode must not stop the partition from loading.
            log.error("__consumer_offsets-%d offset %d: undecodable record skipped: %s", self.partition, offset, e)
            return
        if d.type in (RecordType.OFFSET_COMMIT, RecordType.LEGACY_OFFSET_COMMIT):
            group_id = d.key.group
            if d.value is not None and group_id not in self.groups:
                # Offsets committed without group management live in a "simple" classic group.
                self.groups[group_id] = ClassicGroup(group_id)
            self.offsets.replay(group_id, d.key.topic, d.key.partition, d.value, offset, producer_id)
        elif d.type == RecordType.GROUP_METADATA:
            group_id = d.key.group
            existing = self.groups.get(group_id)
            if d.value is None:
                if isinstance(existing, ClassicGroup):
                    del self.groups[group_id]
            else:
                self.groups[group_id] = ClassicGroup.from_record(group_id, d.value)
        elif d.type in _CONSUMER_RECORDS:
            self._replay_consumer(d)

    def _replay_consumer(self, d: rec.DecodedRecord) -> None:
        group_id = d.key.group_id
        group = self.groups.get(group_id)
        if not isinstance(group, ConsumerGroup):
            if d.value is None:
                return  # a tombstone of a group that is gone (or gave way to a classic group)
            if group is not None:
                log.info("group %s becomes a consumer group", group_id)
            group = ConsumerGroup(group_id)
            self.groups[group_id] = group
        t = d.type
        if t == RecordType.CONSUMER_GROUP_METADATA:
            if d.value is None:
                del self.groups[group_id]
            else:
                group.replay_group_epoch(d.value)
        elif t == RecordType.CONSUMER_GROUP_MEMBER_METADATA:
            group.replay_member_metadata(d.key.member_id, d.value)
        elif t == RecordType.CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT:
            group.replay_current_assignment(d.key.member_id, d.value)
        elif t == RecordType.CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER:
            group.replay_target(d.key.member_id, d.value)
        elif t == RecordType.CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA:
            group.replay_target_epoch(d.value)
        elif t == RecordType.CONSUMER_GROUP_REGULAR_EXPRESSION:
            group.replay_regex(d.key.regular_expression, d.value)
        # ConsumerGroupPartitionMetadata (Kafka 4.0) is superseded by the metadata hash of
        # ConsumerGroupMetadata (KIP-1101): read and ignored.

    def on_loaded(self, now_ms: int) -> Effects:
        fx = Effects()
        self.loaded = True
        self.classic.on_loaded(now_ms, fx)
        self.consumer.on_loaded(now_ms, fx)
        self._known_topics = {t.topic_id: t.name for t in self.metadata().topics_by_name.values()}
        fx.timers.append(((EXPIRY_TIMER,), now_ms + self.config.get("offsets.retention.check.interval.ms")))
        return fx

    def on_timer(self, key: Hashable, now_ms: int) -> Effects:
        if not isinstance(key, tuple) or not key:
            return Effects()
        kind = key[0]
        if kind == HEARTBEAT_TIMER:
            return self.classic.on_heartbeat_timer(key[1], key[2], now_ms)
        if kind == JOIN_TIMER:
            return self.classic.on_join_timer(key[1], now_ms)
        if kind == SYNC_TIMER:
            return self.classic.on_sync_timer(key[1], now_ms)
        if kind == SESSION_TIMER:
            return self.consumer.on_session_timer(key[1], key[2], now_ms)
        if kind == REBALANCE_TIMER:
            return self.consumer.on_rebalance_timer(key[1], key[2], now_ms)
        if kind == EXPIRY_TIMER:
            return self._expire_offsets(now_ms)
        return Effects()

    def on_unloaded(self) -> Effects:
        fx = Effects()
        self.classic.on_unloaded(fx)
        self.loaded = False
        return fx

    def on_metadata_update(self, image: Any, now_ms: int) -> Effects:
        # Images share unchanged maps: an image whose topics did not change needs no work.
        if image.topics_by_id is self._last_topics:
            return Effects()
        self._last_topics = image.topics_by_id
        fx = self.consumer.on_metadata_update(image, now_ms)
        # Offsets of deleted topics are deleted with them, as Kafka's onPartitionsDeleted does.
        deleted = {name for tid, name in self._known_topics.items() if image.topic_by_id(tid) is None}
        self._known_topics = {t.topic_id: t.name for t in image.topics_by_name.values()}
        if deleted:
            for group_id in sorted(self.offsets.groups()):
                for topic, partitions in sorted(self.offsets.group_offsets(group_id).items()):
                    if topic in deleted and image.topic(topic) is None:
                        for partition in sorted(partitions):
                            fx.records.append(rec.offset_commit_tombstone(group_id, topic, partition))
        return fx

    # -- expiry ------------------------------------------------------------------------------

    def _expire_offsets(self, now_ms: int) -> Effects:
        fx = Effects()
        retention_ms = self.config.get("offsets.retention.minutes") * 60_000
        for group_id in sorted(self.groups):
            group = self.groups[group_id]
            records, all_expired = off.expire_offsets(self.offsets, group, now_ms, retention_ms)
            fx.records.extend(records)
            if all_expired and group.is_empty():
                fx.records.extend(self._group_tombstones(group))
        fx.timers.append(((EXPIRY_TIMER,), now_ms + self.config.get("offsets.retention.check.interval.ms")))
        return fx

    def _group_tombstones(self, group: ClassicGroup | ConsumerGroup) -> list[CoordinatorRecord]:
        if isinstance(group, ConsumerGroup):
            return self.consumer.tombstones(group)
        return [rec.group_metadata_tombstone(group.group_id)]

    # -- classic protocol --------------------------------------------------------------------

    def join_group(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                   now_ms: int) -> Effects:
        return self.classic.join(request, version, client_id, client_host, token, now_ms)

    def sync_group(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                   now_ms: int) -> Effects:
        return self.classic.sync(request, version, token, now_ms)

    def heartbeat(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                  now_ms: int) -> Effects:
        return self.classic.heartbeat(request, version, token, now_ms)

    def leave_group(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                    now_ms: int) -> Effects:
        return self.classic.leave(request, version, token, now_ms)

    # -- offsets -----------------------------------------------------------------------------

    def _group_for_commit(self, group_id: str, generation: int, unknown_error: ErrorCode) -> Any:
        group = self.groups.get(group_id)
        if group is not None:
            return group
        if generation < 0:
            # A consumer without group management commits: a simple group holds its offsets.
            group = ClassicGroup(group_id)
            self.groups[group_id] = group
            return group
        raise GroupError(unknown_error)

    def offset_commit(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                      now_ms: int) -> Effects:
        fx = Effects()
        image = self.metadata()
        refs = off.resolve_topics(request.topics, version, 10, image)
        codes = off.check_partitions(refs, request.topics, image)
        if not any(c == ErrorCode.NONE for topic_codes in codes for c in topic_codes):
            return fx.respond(token, off.offset_commit_response(request, refs, codes))
        generation = request.generation_id_or_member_epoch if version >= 1 else -1
        member_id = request.member_id if version >= 1 else ""
        instance_id = request.group_instance_id if version >= 7 else None
        try:
            if not request.group_id:
                raise GroupError(ErrorCode.INVALID_GROUP_ID)
            group = self._group_for_commit(
                request.group_id, generation,
                ErrorCode.GROUP_ID_NOT_FOUND if version >= 9 else ErrorCode.ILLEGAL_GENERATION)
            try:
                group.validate_offset_commit(member_id, instance_id, generation, False, version)
            except GroupError as e:
                if e.code == ErrorCode.STALE_MEMBER_EPOCH and version < 9:
                    raise GroupError(ErrorCode.UNSUPPORTED_VERSION) from None
                raise
        except GroupError as e:
            return fx.respond(token, off.offset_commit_error_response(request, refs, codes, e.code))
        if isinstance(group, ClassicGroup):
            self.classic.on_offset_commit(group, member_id, now_ms, fx)
        expire = off.expire_timestamp(request.retention_time_ms, now_ms) if 2 <= version <= 4 else -1
        fx.records.extend(off.commit_records(
            request.group_id, refs, request.topics, codes, now_ms,
            self.config.get("offset.metadata.max.bytes"), expire, use_request_timestamp=version == 1))
        return fx.respond(token, off.offset_commit_response(request, refs, codes))

    def txn_offset_commit(self, request: Any, version: int, client_id: str, client_host: str,
                          token: Any, now_ms: int) -> Effects:
        fx = Effects()
        image = self.metadata()
        refs = off.resolve_topics(request.topics, version, 1 << 15, image)
        codes = off.check_partitions(refs, request.topics, image)
        if not any(c == ErrorCode.NONE for topic_codes in codes for c in topic_codes):
            return fx.respond(token, off.txn_offset_commit_response(request, codes))
        generation = request.generation_id if version >= 3 else -1
        member_id = request.member_id if version >= 3 else ""
        instance_id = request.group_instance_id if version >= 3 else None
        try:
            if not request.group_id:
                raise GroupError(ErrorCode.INVALID_GROUP_ID)
            group = self._group_for_commit(request.group_id, generation, ErrorCode.ILLEGAL_GENERATION)
            try:
                group.validate_offset_commit(member_id, instance_id, generation, True, version)
            except GroupError as e:
                if e.code == ErrorCode.STALE_MEMBER_EPOCH:
                    raise GroupError(ErrorCode.ILLEGAL_GENERATION) from None
                raise
        except GroupError as e:
            return fx.respond(token, off.txn_offset_commit_response(
                request, [[c if c != ErrorCode.NONE else e.code for c in tc] for tc in codes]))
        fx.records.extend(off.commit_records(
            request.group_id, refs, request.topics, codes, now_ms,
            self.config.get("offset.metadata.max.bytes"), -1, use_request_timestamp=False))
        if fx.records:
            fx.producer_id, fx.producer_epoch = request.producer_id, request.producer_epoch
        return fx.respond(token, off.txn_offset_commit_response(request, codes))

    def offset_fetch(self, group: Any, version: int, client_id: str, client_host: str, token: Any,
                     now_ms: int, *, require_stable: bool = False) -> Effects:
        fx = Effects()
        g = self.groups.get(group.group_id)
        return fx.respond(token, off.fetch_offsets(self.offsets, g, group, version, require_stable,
                                                   self.metadata()))

    def offset_delete(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                      now_ms: int) -> Effects:
        fx = Effects()
        R = OffsetDeleteResponse
        image = self.metadata()
        unknown: list[Any] = []
        known_topics = []
        for t in request.topics:
            topic = image.topic(t.name)
            valid = [p for p in t.partitions if topic is not None and p.partition_index in topic.partitions]
            missing = [p for p in t.partitions if p not in valid]
            if missing:
                unknown.append(R.OffsetDeleteResponseTopic(name=t.name, partitions=[
                    R.OffsetDeleteResponsePartition(partition_index=p.partition_index,
                                                    error_code=ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
                    for p in missing]))
            if valid:
                known_topics.append(type(t)(name=t.name, partitions=valid))
        group = self.groups.get(request.group_id)
        try:
            if not request.group_id:
                raise GroupError(ErrorCode.INVALID_GROUP_ID)
            if group is None:
                raise GroupError(ErrorCode.GROUP_ID_NOT_FOUND)
            group.validate_offset_delete()
        except GroupError as e:
            return fx.respond(token, R(error_code=e.code, throttle_time_ms=0, topics=unknown))
        records, response = off.delete_offsets(self.offsets, group, type(request)(
            group_id=request.group_id, topics=known_topics))
        fx.records.extend(records)
        response.topics = unknown + response.topics
        return fx.respond(token, response)

    # -- admin -------------------------------------------------------------------------------

    def list_groups(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                    now_ms: int) -> Effects:
        states = {s.strip().lower() for s in request.states_filter} if version >= 4 else set()
        types = {GroupType.parse(t) for t in request.types_filter} if version >= 5 else set()
        listed = []
        for group_id in sorted(self.groups):
            group = self.groups[group_id]
            if states and group.state_name().lower() not in states:
                continue
            if types and group.type not in types:
                continue
            listed.append(group.listed())
        return Effects().respond(token, listed)

    def describe_groups(self, group_id: str, version: int, client_id: str, client_host: str,
                        token: Any, now_ms: int) -> Effects:
        D = DescribeGroupsResponse
        group = self.groups.get(group_id)
        if isinstance(group, ClassicGroup) and not group.is_in(ClassicState.DEAD):
            return Effects().respond(token, group.described())
        dead = D.DescribedGroup(error_code=ErrorCode.NONE, group_id=group_id,
                                group_state=ClassicState.DEAD.value, protocol_type="", protocol_data="",
                                members=[])
        if version >= 6:
            # KIP-1043: v6 says the group is not found instead of describing it as Dead.
            dead.error_code = ErrorCode.GROUP_ID_NOT_FOUND
            dead.error_message = (f"Group {group_id} not found." if group is None
                                  else f"Group {group_id} is not a classic group.")
        return Effects().respond(token, dead)

    def delete_groups(self, group_id: str, version: int, client_id: str, client_host: str,
                      token: Any, now_ms: int) -> Effects:
        fx = Effects()
        R = DeleteGroupsResponse.DeletableGroupResult
        group = self.groups.get(group_id)
        try:
            if not group_id:
                raise GroupError(ErrorCode.INVALID_GROUP_ID)
            if group is None:
                raise GroupError(ErrorCode.GROUP_ID_NOT_FOUND)
            group.validate_delete()
        except GroupError as e:
            return fx.respond(token, R(group_id=group_id, error_code=e.code))
        fx.records.extend(off.delete_all_offsets(self.offsets, group_id))
        fx.records.extend(self._group_tombstones(group))
        return fx.respond(token, R(group_id=group_id, error_code=ErrorCode.NONE))

    # -- consumer protocol (KIP-848) ---------------------------------------------------------

    def consumer_group_heartbeat(self, request: Any, version: int, client_id: str, client_host: str,
                                 token: Any, now_ms: int) -> Effects:
        return self.consumer.heartbeat(request, version, client_id, client_host, token, now_ms)

    def consumer_group_describe(self, group_id: str, version: int, client_id: str,
                                client_host: str, token: Any, now_ms: int) -> Effects:
        D = ConsumerGroupDescribeResponse
        group = self.groups.get(group_id)
        if not group_id:
            return Effects().respond(token, D.DescribedGroup(
                error_code=ErrorCode.INVALID_GROUP_ID, error_message=ErrorCode.INVALID_GROUP_ID.message,
                group_id=group_id))
        if isinstance(group, ConsumerGroup):
            return Effects().respond(token, self.consumer.describe(group, self.metadata(), version))
        message = (f"Group {group_id} not found." if group is None
                   else f"Group {group_id} is not a consumer group.")
        return Effects().respond(token, D.DescribedGroup(
            error_code=ErrorCode.GROUP_ID_NOT_FOUND, error_message=message, group_id=group_id))
