"""KIP-848 consumer groups: ConsumerGroupHeartbeat (joins, leaves, static members, subscriptions
by topic names and regular expression), the target assignment computed by a server assignor,
and the reconciliation of each member's assignment towards it, epoch by epoch.

The group's state changes only by replaying its records (group epoch, member metadata, target
assignment, current member assignment, resolved regular expressions); an operation computes
the records from the state as it is plus what the operation changes.

Reconciliation follows KIP-848 (Kafka's CurrentAssignmentBuilder): a member first gives up the
partitions it must revoke (it stays at its epoch, state UNREVOKED_PARTITIONS, until its heartbeat
no longer lists them), then moves to the target epoch and gets the target partitions that no
other member still owns; those it must wait for leave it in UNRELEASED_PARTITIONS until they
are free. A partition is thus never in two members' current assignments.

Regular expressions are Python `re` patterns matched against whole topic names (Java's
`Matcher.matches`); Kafka uses RE2/J syntax, which agrees for common patterns.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from protocol.errors import ErrorCode
from protocol.messages import (
    ConsumerGroupDescribeResponse,
    ConsumerGroupHeartbeatResponse,
    ListGroupsResponse,
)

from pybroker.config import effective_group_config
from pybroker.coordinator.shard import CoordinatorRecord, Effects
from pybroker.groups import records as rec
from pybroker.groups.assignors import ASSIGNORS, MemberSpec
from pybroker.groups.group import CONSUMER_PROTOCOL_TYPE, GroupError, GroupType

if TYPE_CHECKING:
    from pybroker.groups.shard import GroupCoordinatorShard

log = logging.getLogger(__name__)

LEAVE_GROUP_MEMBER_EPOCH = -1
LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2

SESSION_TIMER = "consumer-session"
REBALANCE_TIMER = "consumer-rebalance"

INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state", "__share_group_state"})

Assignment = Mapping[uuid.UUID, frozenset[int]]
EMPTY: Assignment = {}


class MemberState(IntEnum):
    """A member's reconciliation state (Kafka's MemberState byte values)."""

    STABLE = 0
    UNREVOKED_PARTITIONS = 1
    UNRELEASED_PARTITIONS = 2
    UNKNOWN = 127


class ConsumerGroupState(Enum):
    EMPTY = "Empty"
    ASSIGNING = "Assigning"
    RECONCILING = "Reconciling"
    STABLE = "Stable"
    DEAD = "Dead"


def freeze(assignment: Mapping[uuid.UUID, Iterable[int]]) -> dict[uuid.UUID, frozenset[int]]:
    return {tid: frozenset(parts) for tid, parts in assignment.items() if parts}


def from_record_partitions(tps: Iterable[Any]) -> dict[uuid.UUID, frozenset[int]]:
    out: dict[uuid.UUID, frozenset[int]] = {}
    for tp in tps:
        if tp.partitions:
            out[tp.topic_id] = out.get(tp.topic_id, frozenset()) | frozenset(tp.partitions)
    return out


@dataclass(frozen=True, slots=True)
class ConsumerMember:
    """A member of a consumer group: its subscription (member metadata record) and its current
    assignment (current member assignment record)."""

    member_id: str
    instance_id: str | None = None
    rack_id: str | None = None
    client_id: str = ""
    client_host: str = ""
    subscribed_topic_names: tuple[str, ...] = ()
    subscribed_topic_regex: str | None = None
    rebalance_timeout_ms: int = -1
    server_assignor: str | None = None
    member_epoch: int = 0
    previous_member_epoch: int = 0
    state: MemberState = MemberState.STABLE
    assigned: Assignment = field(default_factory=dict)
    pending_revocation: Assignment = field(default_factory=dict)

    def metadata_key(self) -> tuple[Any, ...]:
        return (self.instance_id, self.rack_id, self.client_id, self.client_host,
                self.subscribed_topic_names, self.subscribed_topic_regex, self.rebalance_timeout_ms,
                self.server_assignor)

    def assignment_key(self) -> tuple[Any, ...]:
        return (self.member_epoch, self.previous_member_epoch, self.state, freeze(self.assigned),
                freeze(self.pending_revocation))

    def is_reconciled_to(self, epoch: int) -> bool:
        return self.state == MemberState.STABLE and self.member_epoch == epoch

    def metadata_value(self) -> Any:
        return rec.ConsumerGroupMemberMetadataValue(
            instance_id=self.instance_id, rack_id=self.rack_id, client_id=self.client_id,
            client_host=self.client_host, subscribed_topic_names=list(self.subscribed_topic_names),
            subscribed_topic_regex=self.subscribed_topic_regex,
            rebalance_timeout_ms=self.rebalance_timeout_ms, server_assignor=self.server_assignor)


@dataclass(frozen=True, slots=True)
class ResolvedRegex:
    topics: frozenset[str]
    version: int
    timestamp: int


class ConsumerGroup:
    """A KIP-848 consumer group as its records describe it."""

    type = GroupType.CONSUMER

    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.group_epoch = 0
        self.metadata_hash = 0
        self.members: dict[str, ConsumerMember] = {}
        self.static_members: dict[str, str] = {}
        self.target: dict[str, Assignment] = {}
        self.assignment_epoch = 0
        self.regexes: dict[str, ResolvedRegex] = {}
        # (topic id, partition) -> the member whose current assignment holds it
        self.owners: dict[tuple[uuid.UUID, int], str] = {}
        # member id -> the epoch its rebalance (revocation) timer was armed at
        self.rebalance_timer_epochs: dict[str, int] = {}

    # -- derived state -----------------------------------------------------------------------

    def state(self) -> ConsumerGroupState:
        if not self.members:
            return ConsumerGroupState.EMPTY
        if self.group_epoch > self.assignment_epoch:
            return ConsumerGroupState.ASSIGNING
        if any(not m.is_reconciled_to(self.assignment_epoch) for m in self.members.values()):
            return ConsumerGroupState.RECONCILING
        return ConsumerGroupState.STABLE

    def state_name(self) -> str:
        return self.state().value

    def is_empty(self) -> bool:
        return not self.members

    def static_member(self, instance_id: str) -> ConsumerMember | None:
        member_id = self.static_members.get(instance_id)
        return None if member_id is None else self.members.get(member_id)

    def subscribed_topic_names(self, members: Iterable[ConsumerMember] | None = None,
                               regexes: Mapping[str, ResolvedRegex] | None = None) -> set[str]:
        members = self.members.values() if members is None else members
        regexes = self.regexes if regexes is None else regexes
        names: set[str] = set()
        for m in members:
            names.update(m.subscribed_topic_names)
            if m.subscribed_topic_regex:
                resolved = regexes.get(m.subscribed_topic_regex)
                if resolved is not None:
                    names.update(resolved.topics)
        return names

    def num_subscribed_to_regex(self, regex: str) -> int:
        return sum(1 for m in self.members.values() if m.subscribed_topic_regex == regex)

    def partition_owner(self, tid: uuid.UUID, partition: int) -> str | None:
        return self.owners.get((tid, partition))

    def preferred_assignor(self, members: Iterable[ConsumerMember] | None = None) -> str | None:
        members = self.members.values() if members is None else members
        votes = Counter(m.server_assignor for m in members if m.server_assignor)
        if not votes:
            return None
        return max(sorted(votes), key=lambda name: votes[name])

    # -- replay ------------------------------------------------------------------------------

    def replay_member_metadata(self, member_id: str, value: Any | None) -> None:
        if value is None:
            member = self.members.pop(member_id, None)
            if member is not None:
                self._drop_ownership(member)
                if member.instance_id is not None and self.static_members.get(member.instance_id) == member_id:
                    del self.static_members[member.instance_id]
            self.rebalance_timer_epochs.pop(member_id, None)
            return
        old = self.members.get(member_id) or ConsumerMember(member_id)
        if old.instance_id is not None and self.static_members.get(old.instance_id) == member_id:
            del self.static_members[old.instance_id]
        member = replace(old, instance_id=value.instance_id, rack_id=value.rack_id,
                         client_id=value.client_id, client_host=value.client_host,
                         subscribed_topic_names=tuple(sorted(value.subscribed_topic_names)),
                         subscribed_topic_regex=value.subscribed_topic_regex,
                         rebalance_timeout_ms=value.rebalance_timeout_ms,
                         server_assignor=value.server_assignor)
        self.members[member_id] = member
        if member.instance_id is not None:
            self.static_members[member.instance_id] = member_id

    def replay_current_assignment(self, member_id: str, value: Any | None) -> None:
        old = self.members.get(member_id)
        if value is None:
            if old is None:
                return
            self._drop_ownership(old)
            self.members[member_id] = replace(
                old, member_epoch=LEAVE_GROUP_MEMBER_EPOCH, previous_member_epoch=LEAVE_GROUP_MEMBER_EPOCH,
                state=MemberState.STABLE, assigned={}, pending_revocation={})
            return
        if old is None:
            old = ConsumerMember(member_id)
        self._drop_ownership(old)
        try:
            state = MemberState(value.state)
        except ValueError:
            state = MemberState.UNKNOWN
        member = replace(old, member_epoch=value.member_epoch,
                         previous_member_epoch=value.previous_member_epoch, state=state,
                         assigned=from_record_partitions(value.assigned_partitions),
                         pending_revocation=from_record_partitions(value.partitions_pending_revocation))
        self.members[member_id] = member
        for tid, parts in list(member.assigned.items()) + list(member.pending_revocation.items()):
            for p in parts:
                holder = self.owners.get((tid, p))
                if holder is not None and holder != member_id:
                    log.error("group %s: partition %s-%d of member %s is still owned by %s",
                              self.group_id, tid, p, member_id, holder)
                self.owners[(tid, p)] = member_id

    def _drop_ownership(self, member: ConsumerMember) -> None:
        for tid, parts in list(member.assigned.items()) + list(member.pending_revocation.items()):
            for p in parts:
                if self.owners.get((tid, p)) == member.member_id:
                    del self.owners[(tid, p)]

    def replay_target(self, member_id: str, value: Any | None) -> None:
        if value is None:
            self.target.pop(member_id, None)
        else:
            self.target[member_id] = from_record_partitions(value.topic_partitions)

    def replay_target_epoch(self, value: Any | None) -> None:
        self.assignment_epoch = -1 if value is None else value.assignment_epoch

    def replay_group_epoch(self, value: Any) -> None:
        self.group_epoch = value.epoch
        self.metadata_hash = value.metadata_hash

    def replay_regex(self, regex: str, value: Any | None) -> None:
        if value is None:
            self.regexes.pop(regex, None)
        else:
            self.regexes[regex] = ResolvedRegex(frozenset(value.topics), value.version, value.timestamp)

    # -- what offset operations ask ----------------------------------------------------------

    def _validate_epoch(self, received: int, member: ConsumerMember) -> None:
        if received != member.member_epoch:
            raise GroupError(ErrorCode.STALE_MEMBER_EPOCH,
                             f"The member epoch {received} is not the current one ({member.member_epoch}).")

    def validate_offset_commit(self, member_id: str, instance_id: str | None, generation: int,
                               transactional: bool, version: int) -> None:
        if generation < 0 and not self.members:
            return
        if transactional and generation == -1 and member_id == "" and instance_id is None:
            return
        member = self.members.get(member_id)
        if member is None:
            raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID)
        if not transactional and version < 9:
            raise GroupError(ErrorCode.UNSUPPORTED_VERSION,
                             "OffsetCommit version 9 or above must be used by members using the "
                             "consumer group protocol")
        self._validate_epoch(generation, member)

    def validate_offset_fetch(self, member_id: str | None, member_epoch: int) -> None:
        if member_id is None and member_epoch < 0:
            return
        member = self.members.get(member_id or "")
        if member is None:
            raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID)
        self._validate_epoch(member_epoch, member)

    def validate_offset_delete(self) -> None:
        pass

    def validate_delete(self) -> None:
        if self.members:
            raise GroupError(ErrorCode.NON_EMPTY_GROUP)

    def is_subscribed_to_topic(self, topic: str) -> bool:
        return topic in self.subscribed_topic_names()

    def offset_expiration_base(self) -> Callable[[int], int] | None:
        return lambda commit: commit

    # -- descriptions ------------------------------------------------------------------------

    def listed(self) -> Any:
        return ListGroupsResponse.ListedGroup(group_id=self.group_id, protocol_type=CONSUMER_PROTOCOL_TYPE,
                                              group_state=self.state_name(),
                                              group_type=GroupType.CONSUMER.value)


def metadata_hash(topic_names: Iterable[str], image: Any) -> int:
    """A stable 64-bit digest of the subscribed topics' ids and partition counts (0: none).

    It plays the role of KIP-1101's metadata hash: when it changes, the group rebalances.
    """
    h = hashlib.blake2b(digest_size=8)
    found = False
    for name in sorted(set(topic_names)):
        topic = image.topic(name)
        if topic is None:
            continue
        found = True
        h.update(name.encode())
        h.update(b"\0")
        h.update(topic.topic_id.bytes)
        h.update(len(topic.partitions).to_bytes(4, "big"))
    if not found:
        return 0
    return int.from_bytes(h.digest(), "big", signed=True)


def topic_ids(names: Iterable[str], image: Any) -> frozenset[uuid.UUID]:
    out = set()
    for name in names:
        topic = image.topic(name)
        if topic is not None:
            out.add(topic.topic_id)
    return frozenset(out)


def resolve_regex(pattern: re.Pattern[str], image: Any) -> frozenset[str]:
    return frozenset(name for name in image.topics_by_name
                     if name not in INTERNAL_TOPICS and pattern.fullmatch(name))


# --- reconciliation ----------------------------------------------------------------------------

def _owns_any(owned: list[Any] | None, partitions: Assignment) -> bool:
    """Whether the member's reported owned partitions include any of `partitions` (unknown if None)."""
    if owned is None:
        return True
    for tp in owned:
        parts = partitions.get(tp.topic_id)
        if parts and any(p in parts for p in tp.partitions):
            return True
    return False


def reconcile(member: ConsumerMember, target_epoch: int, target: Assignment,
              subscribed_ids: frozenset[uuid.UUID], owner_of: Callable[[uuid.UUID, int], str | None],
              owned: list[Any] | None) -> ConsumerMember:
    """The member's next state towards (target_epoch, target), as KIP-848 reconciles."""
    if member.state == MemberState.STABLE:
        if member.member_epoch != target_epoch:
            return _next_assignment(member, member.member_epoch, target_epoch, target, subscribed_ids,
                                    owner_of, owned)
        return member
    if member.state == MemberState.UNREVOKED_PARTITIONS:
        if _owns_any(owned, member.pending_revocation):
            return member
        return _next_assignment(member, member.member_epoch, target_epoch, target, subscribed_ids,
                                owner_of, owned)
    if member.state == MemberState.UNRELEASED_PARTITIONS:
        return _next_assignment(member, member.member_epoch, target_epoch, target, subscribed_ids,
                                owner_of, owned)
    # UNKNOWN: written by a newer version; the member must start over without partitions.
    if owned is None or owned:
        raise GroupError(ErrorCode.FENCED_MEMBER_EPOCH,
                         "The member is in an unknown state and must rejoin without partitions.")
    return _next_assignment(member, target_epoch, target_epoch, target, subscribed_ids, owner_of, owned)


def _next_assignment(member: ConsumerMember, member_epoch: int, target_epoch: int, target: Assignment,
                     subscribed_ids: frozenset[uuid.UUID], owner_of: Callable[[uuid.UUID, int], str | None],
                     owned: list[Any] | None) -> ConsumerMember:
    assigned: dict[uuid.UUID, frozenset[int]] = {}
    revoking: dict[uuid.UUID, frozenset[int]] = {}
    to_assign: dict[uuid.UUID, frozenset[int]] = {}
    unreleased = False
    for tid in set(target) | set(member.assigned):
        wanted = target.get(tid, frozenset()) if tid in subscribed_ids else frozenset()
        current = member.assigned.get(tid, frozenset())
        keep = current & wanted
        revoke = current - keep
        new = set(wanted - keep)
        mine_pending = member.pending_revocation.get(tid, frozenset())
        for p in list(new):
            holder = owner_of(tid, p)
            # A partition still held by another member (or by this one, pending revocation,
            # which cannot happen here) is not handed out yet.
            if holder is not None and holder != member.member_id and p not in mine_pending:
                new.discard(p)
                unreleased = True
        if keep:
            assigned[tid] = keep
        if revoke:
            revoking[tid] = revoke
        if new:
            to_assign[tid] = frozenset(new)
    if revoking and _owns_any(owned, revoking):
        # Revocation first: the member keeps its epoch until it has given the partitions up.
        return replace(member, state=MemberState.UNREVOKED_PARTITIONS,
                       previous_member_epoch=member.member_epoch, member_epoch=member_epoch,
                       assigned=assigned, pending_revocation=revoking)
    for tid, parts in to_assign.items():
        assigned[tid] = assigned.get(tid, frozenset()) | parts
    state = MemberState.UNRELEASED_PARTITIONS if unreleased else MemberState.STABLE
    # As Kafka's updateMemberEpoch: the previous epoch is the one the member had before.
    return replace(member, state=state, previous_member_epoch=member.member_epoch,
                   member_epoch=target_epoch, assigned=assigned, pending_revocation={})


# --- the coordinator ---------------------------------------------------------------------------

def heartbeat_error(error: int, message: str | None = None) -> Any:
    return ConsumerGroupHeartbeatResponse(throttle_time_ms=0, error_code=error, error_message=message,
                                          member_id=None, member_epoch=0, heartbeat_interval_ms=0,
                                          assignment=None)


def _blank(value: str | None) -> bool:
    return value is not None and value.strip() == ""


class ConsumerGroups:
    """The consumer protocol's operations on a shard's groups."""

    def __init__(self, shard: "GroupCoordinatorShard") -> None:
        self.shard = shard

    @property
    def groups(self) -> dict[str, Any]:
        return self.shard.groups

    def cfg(self, name: str) -> Any:
        return self.shard.config.get(name)

    def group_config(self, group_id: str, image: Any, name: str) -> int:
        from pybroker.metadata.image import ConfigResource, ConfigResourceType

        overrides = image.config(ConfigResource(ConfigResourceType.GROUP, group_id))
        if not overrides:
            return self.cfg("group." + name)
        return effective_group_config(overrides, self.shard.config).value(name)

    def session_timeout_ms(self, group_id: str, image: Any) -> int:
        return self.group_config(group_id, image, "consumer.session.timeout.ms")

    def heartbeat_interval_ms(self, group_id: str, image: Any) -> int:
        return self.group_config(group_id, image, "consumer.heartbeat.interval.ms")

    def assignor_names(self) -> list[str]:
        names = [n for n in self.cfg("group.consumer.assignors") if n in ASSIGNORS]
        return names or ["uniform"]

    def new_member_id(self) -> str:
        # Kafka's Uuid.toString(): URL-safe base64 of the 16 bytes, without padding.
        return base64.urlsafe_b64encode(self.shard.new_uuid().bytes).rstrip(b"=").decode()

    # -- ConsumerGroupHeartbeat --------------------------------------------------------------

    def heartbeat(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                  now_ms: int) -> Effects:
        fx = Effects()
        image = self.shard.metadata()
        try:
            self._validate(request, version)
            if request.member_epoch in (LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH):
                records, response = self._leave(request, fx, image)
            else:
                records, response = self._heartbeat(request, version, client_id, client_host, image,
                                                    now_ms, fx)
        except GroupError as e:
            fx.timers.clear()
            return fx.respond(token, heartbeat_error(e.code, e.message))
        fx.records.extend(records)
        return fx.respond(token, response)

    def _validate(self, request: Any, version: int) -> None:
        epoch = request.member_epoch
        if version >= 1 or epoch > 0 or epoch == LEAVE_GROUP_MEMBER_EPOCH:
            if request.member_id.strip() == "":
                raise GroupError(ErrorCode.INVALID_REQUEST, "MemberId can't be empty.")
        if request.group_id.strip() == "":
            raise GroupError(ErrorCode.INVALID_REQUEST, "GroupId can't be empty.")
        if _blank(request.instance_id):
            raise GroupError(ErrorCode.INVALID_REQUEST, "InstanceId can't be empty.")
        if _blank(request.rack_id):
            raise GroupError(ErrorCode.INVALID_REQUEST, "RackId can't be empty.")
        regex = getattr(request, "subscribed_topic_regex", None) if version >= 1 else None
        if epoch == 0:
            if request.rebalance_timeout_ms == -1:
                raise GroupError(ErrorCode.INVALID_REQUEST, "RebalanceTimeoutMs must be provided in first request.")
            if request.topic_partitions is None or request.topic_partitions:
                raise GroupError(ErrorCode.INVALID_REQUEST, "TopicPartitions must be empty when (re-)joining.")
            if request.subscribed_topic_names is None and regex is None:
                raise GroupError(ErrorCode.INVALID_REQUEST, "Either SubscribedTopicNames or "
                                 "SubscribedTopicRegex must be non-null when (re-)joining.")
        elif epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH:
            if request.instance_id is None:
                raise GroupError(ErrorCode.INVALID_REQUEST, "InstanceId can't be null.")
        elif epoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH:
            raise GroupError(ErrorCode.INVALID_REQUEST, "MemberEpoch is invalid.")
        if request.server_assignor is not None and request.server_assignor not in self.assignor_names():
            raise GroupError(ErrorCode.UNSUPPORTED_ASSIGNOR,
                             f"ServerAssignor {request.server_assignor} is not supported. Supported "
                             f"assignors: {', '.join(self.assignor_names())}.")

    def _group_for_heartbeat(self, group_id: str, create: bool,
                             records: list[CoordinatorRecord]) -> ConsumerGroup:
        group = self.groups.get(group_id)
        if group is None:
            if not create:
                raise GroupError(ErrorCode.GROUP_ID_NOT_FOUND, f"Consumer group {group_id} not found.")
            return ConsumerGroup(group_id)
        if isinstance(group, ConsumerGroup):
            return group
        if create and group.is_empty():
            # An empty classic group gives way to a consumer group; its offsets stay.
            records.append(rec.group_metadata_tombstone(group_id))
            del self.groups[group_id]
            return ConsumerGroup(group_id)
        # Converting a non-empty classic group (KIP-848 online upgrade) is not supported.
        raise GroupError(ErrorCode.GROUP_ID_NOT_FOUND, f"Group {group_id} is not a consumer group.")

    def _validate_epoch(self, member: ConsumerMember, received: int, owned: list[Any] | None) -> None:
        if received == 0:
            return  # a member may always rejoin from epoch 0 (KAFKA-19233)
        if received > member.member_epoch:
            raise GroupError(ErrorCode.FENCED_MEMBER_EPOCH,
                             f"The consumer group member has a greater member epoch ({received}) than the "
                             f"one known by the group coordinator ({member.member_epoch}). The member "
                             "must abandon all its partitions and rejoin.")
        if received < member.member_epoch:
            # The previous epoch is accepted while the member owns no more than it is assigned:
            # the response that bumped its epoch may have been lost.
            if received != member.previous_member_epoch or not _is_subset(owned, member.assigned):
                raise GroupError(ErrorCode.FENCED_MEMBER_EPOCH,
                                 f"The consumer group member has a smaller member epoch ({received}) than "
                                 f"the one known by the group coordinator ({member.member_epoch}). The "
                                 "member must abandon all its partitions and rejoin.")

    def _heartbeat(self, request: Any, version: int, client_id: str, client_host: str, image: Any,
                   now_ms: int, fx: Effects) -> tuple[list[CoordinatorRecord], Any]:
        records: list[CoordinatorRecord] = []
        group_id = request.group_id
        epoch = request.member_epoch
        owned = request.topic_partitions
        create = epoch == 0
        group = self._group_for_heartbeat(group_id, create, records)
        member_id = request.member_id
        if len(group.members) >= self.cfg("group.consumer.max.size") \
                and (not member_id or member_id not in group.members):
            raise GroupError(ErrorCode.GROUP_MAX_SIZE_REACHED,
                             f"The consumer group has reached its maximum capacity of "
                             f"{self.cfg('group.consumer.max.size')} members.")
        if not member_id:
            member_id = self.new_member_id()
        instance_id = request.instance_id
        replaced: ConsumerMember | None = None
        if instance_id is None:
            member = group.members.get(member_id)
            if member is None:
                if not create:
                    raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID,
                                     f"Member {member_id} is not a member of group {group_id}.")
                member = ConsumerMember(member_id)
            else:
                self._validate_epoch(member, epoch, owned)
        else:
            existing = group.static_member(instance_id)
            if create:
                if existing is None or existing.member_id == member_id:
                    member = group.members.get(member_id) or ConsumerMember(member_id)
                else:
                    if existing.member_epoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH:
                        raise GroupError(ErrorCode.UNRELEASED_INSTANCE_ID,
                                         f"Static member {member_id} with instance id {instance_id} cannot "
                                         f"join the group because the instance id is owned by "
                                         f"{existing.member_id} member.")
                    # The instance rejoins within its session: it takes over the previous
                    # member's assignment under its new member id.
                    replaced = existing
                    member = replace(existing, member_id=member_id, member_epoch=0, previous_member_epoch=0)
                    records.extend(self._member_tombstones(group_id, existing.member_id))
                    records.append(rec.consumer_group_member_metadata(group_id, member_id, member.metadata_value()))
                    records.append(rec.consumer_group_target_assignment(
                        group_id, member_id, group.target.get(existing.member_id, EMPTY)))
                    records.append(self._current_assignment_record(group_id, member))
                    self._cancel_timers(group, existing.member_id, fx)
            else:
                if existing is None:
                    raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID, f"Instance id {instance_id} is unknown.")
                if existing.member_id != member_id:
                    raise GroupError(ErrorCode.FENCED_INSTANCE_ID,
                                     f"Static member {member_id} with instance id {instance_id} was fenced "
                                     f"by member {existing.member_id}.")
                self._validate_epoch(existing, epoch, owned)
                member = existing
        regex = getattr(request, "subscribed_topic_regex", None) if version >= 1 else None
        updated = replace(
            member,
            instance_id=instance_id if instance_id is not None else member.instance_id,
            rack_id=request.rack_id if request.rack_id is not None else member.rack_id,
            rebalance_timeout_ms=request.rebalance_timeout_ms if request.rebalance_timeout_ms != -1
            else member.rebalance_timeout_ms,
            server_assignor=request.server_assignor if request.server_assignor is not None
            else member.server_assignor,
            subscribed_topic_names=tuple(sorted(set(request.subscribed_topic_names)))
            if request.subscribed_topic_names is not None else member.subscribed_topic_names,
            subscribed_topic_regex=regex if regex is not None else member.subscribed_topic_regex,
            client_id=client_id, client_host=client_host)
        is_new = member_id not in group.members or replaced is not None
        bump = group.group_epoch == 0
        if is_new or updated.metadata_key() != member.metadata_key():
            records.append(rec.consumer_group_member_metadata(group_id, member_id, updated.metadata_value()))
            if updated.subscribed_topic_names != member.subscribed_topic_names:
                bump = True
        regexes, regex_bump = self._update_regexes(group, member if not is_new or replaced else None,
                                                   updated, image, now_ms, records)
        bump |= regex_bump

        members_after = dict(group.members)
        if replaced is not None:
            members_after.pop(replaced.member_id, None)
        members_after[member_id] = updated
        subscribed = group.subscribed_topic_names(members_after.values(), regexes)
        new_hash = metadata_hash(subscribed, image)
        if new_hash != group.metadata_hash:
            bump = True
        group_epoch = group.group_epoch
        if bump:
            group_epoch += 1
            records.append(rec.consumer_group_epoch(group_id, group_epoch, new_hash))

        if group_epoch > group.assignment_epoch:
            targets = self._compute_target(group, members_after, regexes, image, group_epoch, records)
            target_epoch = group_epoch
            target = targets.get(member_id, EMPTY)
        else:
            target_epoch = group.assignment_epoch
            target = group.target.get(member_id, EMPTY)
            if replaced is not None:
                target = group.target.get(replaced.member_id, EMPTY)

        reconciled = updated
        if not updated.is_reconciled_to(target_epoch):
            subscribed_ids = topic_ids(group.subscribed_topic_names([updated], regexes), image)
            reconciled = reconcile(updated, target_epoch, target, subscribed_ids, group.partition_owner, owned)
        if reconciled.assignment_key() != updated.assignment_key() or is_new:
            records.append(self._current_assignment_record(group_id, reconciled))
            if reconciled.state == MemberState.UNREVOKED_PARTITIONS:
                group.rebalance_timer_epochs[member_id] = reconciled.member_epoch
                fx.timers.append(((REBALANCE_TIMER, group_id, member_id),
                                  now_ms + max(reconciled.rebalance_timeout_ms, 0)))
            elif member_id in group.rebalance_timer_epochs:
                del group.rebalance_timer_epochs[member_id]
                fx.timers.append(((REBALANCE_TIMER, group_id, member_id), None))

        fx.timers.append(((SESSION_TIMER, group_id, member_id), now_ms + self.session_timeout_ms(group_id, image)))
        response = ConsumerGroupHeartbeatResponse(
            throttle_time_ms=0, error_code=ErrorCode.NONE, error_message=None, member_id=member_id,
            member_epoch=reconciled.member_epoch,
            heartbeat_interval_ms=self.heartbeat_interval_ms(group_id, image), assignment=None)
        full = epoch == 0 or (request.rebalance_timeout_ms != -1 and request.subscribed_topic_names is not None
                              and owned is not None)
        if full or freeze(reconciled.assigned) != freeze(member.assigned) or is_new:
            response.assignment = self._response_assignment(reconciled)
        return records, response

    @staticmethod
    def _response_assignment(member: ConsumerMember) -> Any:
        R = ConsumerGroupHeartbeatResponse
        return R.Assignment(topic_partitions=[
            R.TopicPartitions(topic_id=tid, partitions=sorted(parts))
            for tid, parts in sorted(member.assigned.items()) if parts])

    @staticmethod
    def _current_assignment_record(group_id: str, m: ConsumerMember) -> CoordinatorRecord:
        return rec.consumer_group_current_assignment(group_id, m.member_id, m.member_epoch,
                                                     m.previous_member_epoch, int(m.state),
                                                     m.assigned, m.pending_revocation)

    def _update_regexes(self, group: ConsumerGroup, old: ConsumerMember | None, new: ConsumerMember,
                        image: Any, now_ms: int,
                        records: list[CoordinatorRecord]) -> tuple[dict[str, ResolvedRegex], bool]:
        """Resolve a regex a member newly subscribes to; drop one nobody uses any more."""
        regexes = dict(group.regexes)
        bump = False
        old_regex = old.subscribed_topic_regex if old is not None else None
        new_regex = new.subscribed_topic_regex
        if old_regex == new_regex:
            return regexes, False
        if old_regex and group.num_subscribed_to_regex(old_regex) == 1 and old_regex in regexes:
            records.append(rec.consumer_group_regex_tombstone(group.group_id, old_regex))
            del regexes[old_regex]
        bump = True  # the member's topics change with its regex
        if new_regex:
            if new_regex not in regexes:
                try:
                    pattern = re.compile(new_regex)
                except re.error as e:
                    raise GroupError(ErrorCode.INVALID_REGULAR_EXPRESSION,
                                     f"SubscribedTopicRegex `{new_regex}` is not a valid regular expression: {e}.")
                resolved = ResolvedRegex(resolve_regex(pattern, image), max(image.offset, 0), now_ms)
                regexes[new_regex] = resolved
                records.append(rec.consumer_group_regex(group.group_id, new_regex, sorted(resolved.topics),
                                                        resolved.version, resolved.timestamp))
        return regexes, bump

    def _compute_target(self, group: ConsumerGroup, members: Mapping[str, ConsumerMember],
                        regexes: Mapping[str, ResolvedRegex], image: Any, epoch: int,
                        records: list[CoordinatorRecord]) -> dict[str, Assignment]:
        """A new target assignment at `epoch`; records for the members whose target changed."""
        names = self.assignor_names()
        preferred = group.preferred_assignor(members.values())
        assignor = ASSIGNORS[preferred if preferred in names else names[0]]
        specs: dict[str, MemberSpec] = {}
        for m in members.values():
            current = group.target.get(m.member_id)
            if current is None and m.instance_id is not None:
                # A replaced static member inherits its predecessor's target.
                previous = group.static_members.get(m.instance_id)
                current = group.target.get(previous, EMPTY) if previous is not None else EMPTY
            specs[m.member_id] = MemberSpec(
                member_id=m.member_id,
                subscribed_topic_ids=topic_ids(group.subscribed_topic_names([m], regexes), image),
                current=current or EMPTY, instance_id=m.instance_id, rack_id=m.rack_id)
        partitions = {}
        for name in group.subscribed_topic_names(members.values(), regexes):
            topic = image.topic(name)
            if topic is not None:
                partitions[topic.topic_id] = len(topic.partitions)
        new = {mid: freeze(a) for mid, a in assignor.assign(specs, partitions).items()}
        for mid in sorted(new):
            if group.target.get(mid, EMPTY) != new[mid] or mid not in group.target:
                records.append(rec.consumer_group_target_assignment(group.group_id, mid, new[mid]))
        records.append(rec.consumer_group_target_assignment_epoch(group.group_id, epoch))
        return new

    # -- leaving and fencing -----------------------------------------------------------------

    def _member_tombstones(self, group_id: str, member_id: str) -> list[CoordinatorRecord]:
        return [rec.consumer_group_current_assignment_tombstone(group_id, member_id),
                rec.consumer_group_target_assignment_tombstone(group_id, member_id),
                rec.consumer_group_member_metadata_tombstone(group_id, member_id)]

    def _cancel_timers(self, group: ConsumerGroup, member_id: str, fx: Effects) -> None:
        fx.timers.append(((SESSION_TIMER, group.group_id, member_id), None))
        fx.timers.append(((REBALANCE_TIMER, group.group_id, member_id), None))
        group.rebalance_timer_epochs.pop(member_id, None)

    def fence(self, group: ConsumerGroup, member: ConsumerMember, image: Any, now_ms: int,
              fx: Effects) -> list[CoordinatorRecord]:
        """Remove a member: tombstones for it, a regex it alone used, and a new group epoch."""
        records = self._member_tombstones(group.group_id, member.member_id)
        regex = member.subscribed_topic_regex
        regexes = dict(group.regexes)
        if regex and group.num_subscribed_to_regex(regex) == 1 and regex in regexes:
            records.append(rec.consumer_group_regex_tombstone(group.group_id, regex))
            del regexes[regex]
        remaining = [m for m in group.members.values() if m.member_id != member.member_id]
        new_hash = metadata_hash(group.subscribed_topic_names(remaining, regexes), image)
        records.append(rec.consumer_group_epoch(group.group_id, group.group_epoch + 1, new_hash))
        self._cancel_timers(group, member.member_id, fx)
        return records

    def _leave(self, request: Any, fx: Effects, image: Any) -> tuple[list[CoordinatorRecord], Any]:
        group = self.groups.get(request.group_id)
        if not isinstance(group, ConsumerGroup):
            raise GroupError(ErrorCode.GROUP_ID_NOT_FOUND, f"Consumer group {request.group_id} not found.")
        member_id = request.member_id
        response = ConsumerGroupHeartbeatResponse(throttle_time_ms=0, error_code=ErrorCode.NONE,
                                                  member_id=member_id, member_epoch=request.member_epoch,
                                                  heartbeat_interval_ms=0, assignment=None)
        if request.instance_id is None:
            member = group.members.get(member_id)
            if member is None:
                raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID,
                                 f"Member {member_id} is not a member of group {group.group_id}.")
            return self.fence(group, member, image, 0, fx), response
        member = group.static_member(request.instance_id)
        if member is None:
            raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID, f"Instance id {request.instance_id} is unknown.")
        if member.member_id != member_id:
            raise GroupError(ErrorCode.FENCED_INSTANCE_ID,
                             f"Static member {member_id} with instance id {request.instance_id} was fenced "
                             f"by member {member.member_id}.")
        if request.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH:
            # A static member leaves for a while: it keeps its assignment until its session ends.
            leaving = replace(member, member_epoch=LEAVE_GROUP_STATIC_MEMBER_EPOCH, pending_revocation={})
            response.member_epoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH
            return [self._current_assignment_record(group.group_id, leaving)], response
        return self.fence(group, member, image, 0, fx), response

    # -- timers ------------------------------------------------------------------------------

    def on_session_timer(self, group_id: str, member_id: str, now_ms: int) -> Effects:
        fx = Effects()
        group = self.groups.get(group_id)
        if isinstance(group, ConsumerGroup) and member_id in group.members:
            fx.records.extend(self.fence(group, group.members[member_id], self.shard.metadata(), now_ms, fx))
        return fx

    def on_rebalance_timer(self, group_id: str, member_id: str, now_ms: int) -> Effects:
        fx = Effects()
        group = self.groups.get(group_id)
        if not isinstance(group, ConsumerGroup):
            return fx
        epoch = group.rebalance_timer_epochs.pop(member_id, None)
        member = group.members.get(member_id)
        if member is not None and epoch is not None and member.member_epoch == epoch \
                and member.state == MemberState.UNREVOKED_PARTITIONS:
            # The member did not revoke its partitions within its rebalance timeout.
            fx.records.extend(self.fence(group, member, self.shard.metadata(), now_ms, fx))
        return fx

    # -- metadata changes --------------------------------------------------------------------

    def on_metadata_update(self, image: Any, now_ms: int) -> Effects:
        """Refresh regexes against the new topics and bump the epoch of every group whose
        subscribed topics changed; members get the new target assignment at their next heartbeat."""
        fx = Effects()
        for group in list(self.groups.values()):
            if not isinstance(group, ConsumerGroup) or not group.members:
                continue
            regexes = dict(group.regexes)
            bump = False
            for regex in sorted({m.subscribed_topic_regex for m in group.members.values()
                                 if m.subscribed_topic_regex}):
                try:
                    pattern = re.compile(regex)
                except re.error:
                    continue
                topics = resolve_regex(pattern, image)
                old = regexes.get(regex)
                if old is None or old.topics != topics:
                    regexes[regex] = ResolvedRegex(topics, max(image.offset, 0), now_ms)
                    fx.records.append(rec.consumer_group_regex(group.group_id, regex, sorted(topics),
                                                               max(image.offset, 0), now_ms))
                    bump = True
            new_hash = metadata_hash(group.subscribed_topic_names(None, regexes), image)
            if bump or new_hash != group.metadata_hash:
                fx.records.append(rec.consumer_group_epoch(group.group_id, group.group_epoch + 1, new_hash))
        return fx

    # -- loading -----------------------------------------------------------------------------

    def on_loaded(self, now_ms: int, fx: Effects) -> None:
        image = self.shard.metadata()
        for group in self.groups.values():
            if not isinstance(group, ConsumerGroup):
                continue
            session = self.session_timeout_ms(group.group_id, image)
            for member in group.members.values():
                fx.timers.append(((SESSION_TIMER, group.group_id, member.member_id), now_ms + session))
                if member.state == MemberState.UNREVOKED_PARTITIONS:
                    group.rebalance_timer_epochs[member.member_id] = member.member_epoch
                    fx.timers.append(((REBALANCE_TIMER, group.group_id, member.member_id),
                                      now_ms + max(member.rebalance_timeout_ms, 0)))

    # -- admin -------------------------------------------------------------------------------

    def tombstones(self, group: ConsumerGroup) -> list[CoordinatorRecord]:
        """Records deleting the group (DeleteGroups, expiry, or giving way to a classic group)."""
        records: list[CoordinatorRecord] = []
        for member_id in group.members:
            records.append(rec.consumer_group_current_assignment_tombstone(group.group_id, member_id))
        for member_id in set(group.members) | set(group.target):
            records.append(rec.consumer_group_target_assignment_tombstone(group.group_id, member_id))
        records.append(rec.consumer_group_target_assignment_epoch_tombstone(group.group_id))
        for member_id in group.members:
            records.append(rec.consumer_group_member_metadata_tombstone(group.group_id, member_id))
        for regex in sorted(group.regexes):
            records.append(rec.consumer_group_regex_tombstone(group.group_id, regex))
        records.append(rec.consumer_group_partition_metadata_tombstone(group.group_id))
        records.append(rec.consumer_group_epoch_tombstone(group.group_id))
        return records

    def describe(self, group: ConsumerGroup, image: Any, version: int) -> Any:
        D = ConsumerGroupDescribeResponse

        def assignment(a: Assignment) -> Any:
            tps = []
            for tid, parts in sorted(a.items()):
                topic = image.topic_by_id(tid)
                if topic is None or not parts:
                    continue
                tps.append(D.TopicPartitions(topic_id=tid, topic_name=topic.name, partitions=sorted(parts)))
            return D.Assignment(topic_partitions=tps)

        members = []
        for m in group.members.values():
            dm = D.Member(member_id=m.member_id, instance_id=m.instance_id, rack_id=m.rack_id,
                          member_epoch=m.member_epoch, client_id=m.client_id, client_host=m.client_host,
                          subscribed_topic_names=list(m.subscribed_topic_names),
                          subscribed_topic_regex=m.subscribed_topic_regex,
                          assignment=assignment(m.assigned),
                          target_assignment=assignment(group.target.get(m.member_id, EMPTY)))
            if hasattr(dm, "member_type"):
                dm.member_type = 1  # KIP-1099: a consumer-protocol member
            members.append(dm)
        return D.DescribedGroup(
            error_code=ErrorCode.NONE, error_message=None, group_id=group.group_id,
            group_state=group.state_name(), group_epoch=group.group_epoch,
            assignment_epoch=group.assignment_epoch,
            assignor_name=group.preferred_assignor() or self.assignor_names()[0], members=members)


def _is_subset(owned: list[Any] | None, assigned: Assignment) -> bool:
    if owned is None:
        return False
    for tp in owned:
        parts = assigned.get(tp.topic_id)
        if parts is None:
            if tp.partitions:
                return False
            continue
        if any(p not in parts for p in tp.partitions):
            return False
    return True
