"""The classic group protocol: JoinGroup, SyncGroup, Heartbeat and LeaveGroup driving the group
states Empty -> PreparingRebalance -> CompletingRebalance -> Stable (and Dead), as Kafka's group
coordinator does.

Membership lives in memory, as in Kafka: a member's parked JoinGroup or SyncGroup is remembered
by its token and answered by whichever later operation or timer completes it. A GroupMetadata
record (generation, protocol, leader, members and their assignments) is written when a rebalance
completes, when the group becomes empty, when a group is created and when a static member is
replaced, so that the group survives a restart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Iterable

from protocol.errors import DecodeError, ErrorCode
from protocol.messages import (
    DescribeGroupsResponse,
    HeartbeatResponse,
    JoinGroupResponse,
    LeaveGroupResponse,
    ListGroupsResponse,
    SyncGroupResponse,
)
from protocol.messages import data_spec

from pybroker.coordinator.shard import CoordinatorRecord, Effects
from pybroker.groups import records as rec
from pybroker.groups.group import CONSUMER_PROTOCOL_TYPE, GroupError, GroupType

if TYPE_CHECKING:
    from pybroker.groups.shard import GroupCoordinatorShard

UNKNOWN_MEMBER_ID = ""
NO_GENERATION = -1
EMPTY_ASSIGNMENT = b""
# Kafka's group.coordinator's classic new-member join timeout (not a broker config).
NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000

HEARTBEAT_TIMER = "classic-heartbeat"
JOIN_TIMER = "classic-join"
SYNC_TIMER = "classic-sync"


class ClassicState(Enum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


_S = ClassicState
_VALID_PREVIOUS: dict[ClassicState, frozenset[ClassicState]] = {
    _S.PREPARING_REBALANCE: frozenset({_S.STABLE, _S.COMPLETING_REBALANCE, _S.EMPTY}),
    _S.COMPLETING_REBALANCE: frozenset({_S.PREPARING_REBALANCE}),
    _S.STABLE: frozenset({_S.COMPLETING_REBALANCE}),
    _S.DEAD: frozenset(_S),
    _S.EMPTY: frozenset({_S.PREPARING_REBALANCE}),
}


@dataclass(slots=True)
class Parked:
    """A request waiting for the group: its token and api version."""

    token: Any
    version: int


class ClassicMember:
    """A member of a classic group."""

    __slots__ = ("member_id", "instance_id", "client_id", "client_host", "rebalance_timeout_ms",
                 "session_timeout_ms", "protocol_type", "protocols", "assignment", "awaiting_join",
                 "awaiting_sync", "is_new")

    def __init__(self, member_id: str, instance_id: str | None, client_id: str, client_host: str,
                 rebalance_timeout_ms: int, session_timeout_ms: int, protocol_type: str,
                 protocols: list[tuple[str, bytes]], assignment: bytes = EMPTY_ASSIGNMENT) -> None:
        self.member_id = member_id
        self.instance_id = instance_id
        self.client_id = client_id
        self.client_host = client_host
        self.rebalance_timeout_ms = rebalance_timeout_ms
        self.session_timeout_ms = session_timeout_ms
        self.protocol_type = protocol_type
        self.protocols = protocols
        self.assignment = assignment
        self.awaiting_join: Parked | None = None
        self.awaiting_sync: Parked | None = None
        self.is_new = False

    def metadata(self, protocol: str | None) -> bytes:
        for name, metadata in self.protocols:
            if name == protocol:
                return metadata
        return b""

    def protocol_names(self) -> set[str]:
        return {name for name, _ in self.protocols}

    def matches(self, protocols: list[tuple[str, bytes]]) -> bool:
        return self.protocols == protocols

    def vote(self, candidates: set[str]) -> str:
        for name, _ in self.protocols:
            if name in candidates:
                return name
        raise ValueError(f"member {self.member_id} supports none of {sorted(candidates)}")

    def has_satisfied_heartbeat(self) -> bool:
        if self.is_new:
            return False  # new members can expire even while awaiting join
        return self.awaiting_join is not None or self.awaiting_sync is not None


def protocols_of(request: Any) -> list[tuple[str, bytes]]:
    return [(p.name, bytes(p.metadata)) for p in request.protocols]


class ClassicGroup:
    """A classic group: its state, generation, selected protocol, leader and members."""

    type = GroupType.CLASSIC

    def __init__(self, group_id: str, state: ClassicState = ClassicState.EMPTY, *, generation: int = 0,
                 protocol_type: str | None = None, protocol_name: str | None = None,
                 leader_id: str | None = None, current_state_timestamp: int | None = None) -> None:
        self.group_id = group_id
        self.state = state
        self.previous_state = state
        self.generation_id = generation
        self.protocol_type = protocol_type
        self.protocol_name = protocol_name
        self.leader_id = leader_id
        self.current_state_timestamp = current_state_timestamp
        self.members: dict[str, ClassicMember] = {}
        self.static_members: dict[str, str] = {}
        self.pending_join: set[str] = set()
        self.pending_sync: set[str] = set()
        self.supported_protocols: Counter[str] = Counter()
        self.num_awaiting_join = 0
        self.new_member_added = False
        self.subscribed_topics: set[str] | None = None
        # The pending join-phase timer: ("initial", delay, remaining) or ("complete",).
        self.join_timer: tuple[Any, ...] | None = None
        self.sync_timer_generation: int | None = None

    # -- state -------------------------------------------------------------------------------

    def is_in(self, *states: ClassicState) -> bool:
        return self.state in states

    def transition(self, state: ClassicState, now_ms: int) -> None:
        if self.state not in _VALID_PREVIOUS[state]:
            raise AssertionError(f"group {self.group_id}: {self.state.value} -> {state.value}")
        self.previous_state = self.state
        self.state = state
        self.current_state_timestamp = now_ms

    def can_rebalance(self) -> bool:
        return self.state in _VALID_PREVIOUS[ClassicState.PREPARING_REBALANCE]

    def is_empty(self) -> bool:
        return self.state == ClassicState.EMPTY

    def state_name(self) -> str:
        return self.state.value

    def is_simple(self) -> bool:
        """A group created only to hold offsets of a consumer without group management."""
        return self.protocol_type is None and self.state == ClassicState.EMPTY and not self.pending_join

    def uses_consumer_protocol(self) -> bool:
        return self.protocol_type == CONSUMER_PROTOCOL_TYPE

    # -- members -----------------------------------------------------------------------------

    def has_member(self, member_id: str) -> bool:
        return member_id in self.members

    def is_leader(self, member_id: str) -> bool:
        return self.leader_id == member_id

    def add(self, member: ClassicMember, parked: Parked | None) -> None:
        if member.instance_id is not None:
            if member.instance_id in self.static_members:
                raise AssertionError(f"static member {member.instance_id} is already in {self.group_id}")
            self.static_members[member.instance_id] = member.member_id
        if not self.members:
            self.protocol_type = member.protocol_type
        if self.leader_id is None:
            self.leader_id = member.member_id
        self.members[member.member_id] = member
        self.supported_protocols.update(member.protocol_names())
        member.awaiting_join = parked
        if parked is not None:
            self.num_awaiting_join += 1
        self.pending_join.discard(member.member_id)

    def remove(self, member_id: str) -> None:
        member = self.members.pop(member_id, None)
        if member is not None:
            self.supported_protocols.subtract(member.protocol_names())
            if member.awaiting_join is not None:
                self.num_awaiting_join -= 1
            if member.instance_id is not None:
                self.static_members.pop(member.instance_id, None)
        if self.leader_id == member_id:
            self.leader_id = next(iter(self.members), None)
        self.pending_join.discard(member_id)
        self.pending_sync.discard(member_id)

    def update_member(self, member: ClassicMember, protocols: list[tuple[str, bytes]],
                      rebalance_timeout_ms: int, session_timeout_ms: int, parked: Parked | None) -> None:
        self.supported_protocols.subtract(member.protocol_names())
        member.protocols = protocols
        self.supported_protocols.update(member.protocol_names())
        member.rebalance_timeout_ms = rebalance_timeout_ms
        member.session_timeout_ms = session_timeout_ms
        if parked is not None and member.awaiting_join is None:
            self.num_awaiting_join += 1
        elif parked is None and member.awaiting_join is not None:
            self.num_awaiting_join -= 1
        member.awaiting_join = parked

    def maybe_elect_new_joined_leader(self) -> bool:
        if self.leader_id is None:
            return False
        leader = self.members[self.leader_id]
        if leader.awaiting_join is not None:
            return True
        for member in self.members.values():
            if member.awaiting_join is not None:
                self.leader_id = member.member_id
                return True
        return False

    def has_all_members_joined(self) -> bool:
        return len(self.members) == self.num_awaiting_join and not self.pending_join

    def not_yet_rejoined(self) -> list[ClassicMember]:
        return [m for m in self.members.values() if m.awaiting_join is None]

    def rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    def validate_member(self, member_id: str, instance_id: str | None) -> None:
        if instance_id is not None:
            existing = self.static_members.get(instance_id)
            if existing is None:
                raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID)
            if existing != member_id:
                raise GroupError(ErrorCode.FENCED_INSTANCE_ID)
        if member_id not in self.members:
            raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID)

    # -- protocols ---------------------------------------------------------------------------

    def supports_protocols(self, protocol_type: str, names: set[str]) -> bool:
        if self.state == ClassicState.EMPTY:
            return bool(protocol_type) and bool(names)
        return (self.protocol_type == protocol_type
                and any(self.supported_protocols[n] == len(self.members) for n in names))

    def candidate_protocols(self) -> set[str]:
        return {name for name, count in self.supported_protocols.items() if count == len(self.members)}

    def select_protocol(self) -> str:
        """The protocol every member supports with the most member votes (first to reach it)."""
        candidates = self.candidate_protocols()
        votes: Counter[str] = Counter(m.vote(candidates) for m in self.members.values())
        return max(votes.items(), key=lambda kv: kv[1])[0]

    def compute_subscribed_topics(self) -> set[str] | None:
        if self.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return None
        if not self.members:
            return set()
        if self.protocol_name is None:
            return None
        topics: set[str] = set()
        try:
            for member in self.members.values():
                topics.update(decode_subscription_topics(member.metadata(self.protocol_name)))
        except DecodeError:
            return None
        return topics

    def init_next_generation(self, now_ms: int) -> None:
        self.generation_id += 1
        if self.members:
            self.protocol_name = self.select_protocol()
            self.subscribed_topics = self.compute_subscribed_topics()
            self.transition(ClassicState.COMPLETING_REBALANCE, now_ms)
        else:
            self.protocol_name = None
            self.subscribed_topics = self.compute_subscribed_topics()
            self.transition(ClassicState.EMPTY, now_ms)
        self.pending_sync.clear()

    def join_members(self) -> list[Any]:
        return [JoinGroupResponse.JoinGroupResponseMember(
            member_id=m.member_id, group_instance_id=m.instance_id, metadata=m.metadata(self.protocol_name))
            for m in self.members.values()]

    # -- what offset operations ask ----------------------------------------------------------

    def validate_offset_commit(self, member_id: str, instance_id: str | None, generation: int,
                               transactional: bool, version: int) -> None:
        if self.state == ClassicState.DEAD:
            raise GroupError(ErrorCode.COORDINATOR_NOT_AVAILABLE)
        if generation < 0 and self.state == ClassicState.EMPTY:
            return  # a consumer without group management (or the admin client)
        if generation >= 0 or member_id or instance_id is not None:
            self.validate_member(member_id, instance_id)
            if generation != self.generation_id:
                raise GroupError(ErrorCode.ILLEGAL_GENERATION)
        elif not transactional and self.state != ClassicState.EMPTY:
            raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID)
        if not transactional and self.state == ClassicState.COMPLETING_REBALANCE:
            raise GroupError(ErrorCode.REBALANCE_IN_PROGRESS)

    def validate_offset_fetch(self, member_id: str | None, member_epoch: int) -> None:
        if self.state == ClassicState.DEAD:
            raise GroupError(ErrorCode.GROUP_ID_NOT_FOUND)

    def validate_offset_delete(self) -> None:
        if self.state == ClassicState.DEAD:
            raise GroupError(ErrorCode.GROUP_ID_NOT_FOUND)
        if self.state != ClassicState.EMPTY and not self.uses_consumer_protocol():
            raise GroupError(ErrorCode.NON_EMPTY_GROUP)

    def validate_delete(self) -> None:
        if self.state == ClassicState.DEAD:
            raise GroupError(ErrorCode.GROUP_ID_NOT_FOUND)
        if self.state != ClassicState.EMPTY:
            raise GroupError(ErrorCode.NON_EMPTY_GROUP)

    def is_subscribed_to_topic(self, topic: str) -> bool:
        if self.subscribed_topics is None:
            return self.uses_consumer_protocol()
        return topic in self.subscribed_topics

    def offset_expiration_base(self) -> Callable[[int], int] | None:
        if self.protocol_type is not None and self.protocol_type != "":
            if self.state == ClassicState.EMPTY:
                became_empty = self.current_state_timestamp
                if became_empty is not None:
                    return lambda _commit: became_empty
                return lambda commit: commit
            if self.uses_consumer_protocol() and self.subscribed_topics is not None \
                    and self.state == ClassicState.STABLE:
                return lambda commit: commit
            return None
        return lambda commit: commit

    # -- persistence -------------------------------------------------------------------------

    def metadata_value(self, assignment: dict[str, bytes]) -> Any:
        return rec.GroupMetadataValue(
            protocol_type=self.protocol_type or "",
            generation=self.generation_id,
            protocol=self.protocol_name,
            leader=self.leader_id,
            current_state_timestamp=-1 if self.current_state_timestamp is None else self.current_state_timestamp,
            members=[rec.MemberMetadata(
                member_id=m.member_id, group_instance_id=m.instance_id, client_id=m.client_id,
                client_host=m.client_host, rebalance_timeout=m.rebalance_timeout_ms,
                session_timeout=m.session_timeout_ms,
                subscription=m.metadata(self.protocol_name) if self.protocol_name is not None else b"",
                assignment=assignment.get(m.member_id, EMPTY_ASSIGNMENT))
                for m in self.members.values()])

    @classmethod
    def from_record(cls, group_id: str, value: Any) -> "ClassicGroup":
        protocol_type = value.protocol_type or None
        group = cls(group_id, ClassicState.STABLE if value.members else ClassicState.EMPTY,
                    generation=value.generation, protocol_type=protocol_type,
                    protocol_name=value.protocol, leader_id=value.leader,
                    current_state_timestamp=None if value.current_state_timestamp == -1
                    else value.current_state_timestamp)
        for m in value.members:
            rebalance_timeout = m.rebalance_timeout if m.rebalance_timeout != -1 else m.session_timeout
            member = ClassicMember(m.member_id, m.group_instance_id, m.client_id, m.client_host,
                                   rebalance_timeout, m.session_timeout, value.protocol_type,
                                   [(value.protocol or "", bytes(m.subscription))], bytes(m.assignment))
            group.add(member, None)
        group.leader_id = value.leader if value.members else None
        group.subscribed_topics = group.compute_subscribed_topics()
        return group

    # -- descriptions ------------------------------------------------------------------------

    def listed(self) -> Any:
        return ListGroupsResponse.ListedGroup(group_id=self.group_id, protocol_type=self.protocol_type or "",
                                              group_state=self.state.value, group_type=GroupType.CLASSIC.value)

    def described(self) -> Any:
        D = DescribeGroupsResponse
        stable = self.state == ClassicState.STABLE
        members = [D.DescribedGroupMember(
            member_id=m.member_id, group_instance_id=m.instance_id, client_id=m.client_id,
            client_host=m.client_host,
            member_metadata=m.metadata(self.protocol_name) if stable else b"",
            member_assignment=m.assignment if stable else b"")
            for m in self.members.values()]
        return D.DescribedGroup(error_code=ErrorCode.NONE, group_id=self.group_id,
                                group_state=self.state.value, protocol_type=self.protocol_type or "",
                                protocol_data=(self.protocol_name or "") if stable else "",
                                members=members)


def decode_subscription_topics(metadata: bytes) -> list[str]:
    """The topics of an embedded consumer protocol subscription, read with its v0 prefix."""
    from protocol.compiler import codec_for

    if len(metadata) < 2:
        raise DecodeError("consumer protocol subscription too short")
    return list(codec_for(data_spec("ConsumerProtocolSubscription"), 0).decode(metadata, 2).topics)


# --- responses -------------------------------------------------------------------------------

def join_response(version: int, *, error: int = ErrorCode.NONE, member_id: str = UNKNOWN_MEMBER_ID,
                  generation_id: int = NO_GENERATION, protocol_type: str | None = None,
                  protocol_name: str | None = None, leader: str | None = None,
                  skip_assignment: bool = False, members: list[Any] | None = None) -> Any:
    return JoinGroupResponse(
        throttle_time_ms=0, error_code=error, generation_id=generation_id,
        protocol_type=protocol_type,
        # Before v7 the protocol name is not nullable: Kafka sends "" for none.
        protocol_name=protocol_name if protocol_name is not None or version >= 7 else "",
        leader=leader or "", skip_assignment=skip_assignment, member_id=member_id,
        members=members or [])


def sync_response(*, error: int = ErrorCode.NONE, protocol_type: str | None = None,
                  protocol_name: str | None = None, assignment: bytes = EMPTY_ASSIGNMENT) -> Any:
    return SyncGroupResponse(throttle_time_ms=0, error_code=error, protocol_type=protocol_type,
                             protocol_name=protocol_name, assignment=assignment)


def heartbeat_response(error: int = ErrorCode.NONE) -> Any:
    return HeartbeatResponse(throttle_time_ms=0, error_code=error)


# --- the coordinator -------------------------------------------------------------------------

class ClassicGroups:
    """The classic protocol's operations on a shard's groups."""

    def __init__(self, shard: "GroupCoordinatorShard") -> None:
        self.shard = shard

    # -- helpers -----------------------------------------------------------------------------

    @property
    def groups(self) -> dict[str, Any]:
        return self.shard.groups

    def cfg(self, name: str) -> Any:
        return self.shard.config.get(name)

    def _group(self, group_id: str) -> ClassicGroup | None:
        g = self.groups.get(group_id)
        return g if isinstance(g, ClassicGroup) else None

    def _metadata_record(self, group: ClassicGroup, assignment: dict[str, bytes]) -> CoordinatorRecord:
        return self.shard.own_record(rec.group_metadata(group.group_id, group.metadata_value(assignment)))

    def complete_join(self, group: ClassicGroup, member: ClassicMember, fx: Effects, **fields: Any) -> bool:
        parked = member.awaiting_join
        if parked is None:
            return False
        fx.respond(parked.token, join_response(parked.version, **fields))
        member.awaiting_join = None
        group.num_awaiting_join -= 1
        return True

    def complete_sync(self, member: ClassicMember, fx: Effects, **fields: Any) -> bool:
        parked = member.awaiting_sync
        if parked is None:
            return False
        fx.respond(parked.token, sync_response(**fields))
        member.awaiting_sync = None
        return True

    def schedule_heartbeat(self, group: ClassicGroup, member: ClassicMember, now_ms: int, fx: Effects,
                           timeout_ms: int | None = None) -> None:
        timeout = member.session_timeout_ms if timeout_ms is None else timeout_ms
        fx.timers.append(((HEARTBEAT_TIMER, group.group_id, member.member_id), now_ms + timeout))

    def cancel_heartbeat(self, group: ClassicGroup, member_id: str, fx: Effects) -> None:
        fx.timers.append(((HEARTBEAT_TIMER, group.group_id, member_id), None))

    def _schedule_join(self, group: ClassicGroup, delay_ms: int, now_ms: int, fx: Effects,
                       kind: tuple[Any, ...]) -> None:
        group.join_timer = kind
        fx.timers.append(((JOIN_TIMER, group.group_id), now_ms + delay_ms))

    def _cancel_join(self, group: ClassicGroup, fx: Effects) -> None:
        if group.join_timer is not None:
            group.join_timer = None
            fx.timers.append(((JOIN_TIMER, group.group_id), None))

    def _schedule_pending_sync(self, group: ClassicGroup, now_ms: int, fx: Effects) -> None:
        group.sync_timer_generation = group.generation_id
        fx.timers.append(((SYNC_TIMER, group.group_id), now_ms + group.rebalance_timeout_ms()))

    def _remove_sync_expiration(self, group: ClassicGroup, fx: Effects) -> None:
        group.pending_sync.clear()
        if group.sync_timer_generation is not None:
            group.sync_timer_generation = None
            fx.timers.append(((SYNC_TIMER, group.group_id), None))

    def _remove_pending_sync_member(self, group: ClassicGroup, member_id: str, fx: Effects) -> None:
        group.pending_sync.discard(member_id)
        if group.is_in(ClassicState.DEAD, ClassicState.EMPTY, ClassicState.PREPARING_REBALANCE) \
                or not group.pending_sync:
            if group.sync_timer_generation is not None:
                group.sync_timer_generation = None
                fx.timers.append(((SYNC_TIMER, group.group_id), None))

    def new_member_id(self, prefix: str) -> str:
        return f"{prefix}-{self.shard.new_uuid()}"

    # -- JoinGroup ---------------------------------------------------------------------------

    def join(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
             now_ms: int) -> Effects:
        fx = Effects()
        group_id = request.group_id
        member_id = request.member_id
        if not group_id:
            return fx.respond(token, join_response(version, error=ErrorCode.INVALID_GROUP_ID,
                                                   member_id=member_id))
        if not (self.cfg("group.min.session.timeout.ms") <= request.session_timeout_ms
                <= self.cfg("group.max.session.timeout.ms")):
            return fx.respond(token, join_response(version, error=ErrorCode.INVALID_SESSION_TIMEOUT,
                                                   member_id=member_id))
        existing = self.groups.get(group_id)
        if existing is not None and not isinstance(existing, ClassicGroup):
            if not existing.is_empty():
                # Joining a consumer group with the classic protocol (KIP-848 interoperability)
                # is not supported: Kafka answers so when the conversion is not possible.
                return fx.respond(token, join_response(version, error=ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
            # An empty consumer group gives way to a classic group; its offsets stay.
            fx.records.extend(self.shard.consumer.tombstones(existing))
            del self.groups[group_id]
        parked = Parked(token, version)
        is_unknown = member_id == UNKNOWN_MEMBER_ID
        group = self._group(group_id)
        is_new_group = group is None
        if group is None:
            if not is_unknown:
                return fx.respond(token, join_response(version, error=ErrorCode.UNKNOWN_MEMBER_ID,
                                                       member_id=member_id))
            group = ClassicGroup(group_id)
            self.groups[group_id] = group
        records_before = len(fx.records)
        rebalance_timeout = request.session_timeout_ms if version == 0 else request.rebalance_timeout_ms

        if not self._accept_joining_member(group, member_id):
            group.remove(member_id)
            fx.respond(token, join_response(version, error=ErrorCode.GROUP_MAX_SIZE_REACHED))
        elif is_unknown:
            self._join_new_member(request, version, client_id, client_host, parked, group,
                                  rebalance_timeout, now_ms, fx)
        else:
            self._join_existing_member(request, version, client_id, client_host, parked, group,
                                       rebalance_timeout, now_ms, fx)
        if is_new_group and len(fx.records) == records_before:
            # Kafka writes an empty GroupMetadata record so that a new group is persisted.
            fx.records.append(self._metadata_record(group, {}))
        return fx

    def _accept_joining_member(self, group: ClassicGroup, member_id: str) -> bool:
        max_size = self.cfg("group.max.size")
        if group.is_in(ClassicState.EMPTY, ClassicState.DEAD):
            return True
        if group.is_in(ClassicState.PREPARING_REBALANCE):
            member = group.members.get(member_id)
            return (member is not None and member.awaiting_join is not None) \
                or group.num_awaiting_join < max_size
        return member_id in group.members or len(group.members) < max_size

    def _join_new_member(self, request: Any, version: int, client_id: str, client_host: str,
                         parked: Parked, group: ClassicGroup, rebalance_timeout: int, now_ms: int,
                         fx: Effects) -> None:
        protocols = protocols_of(request)
        if group.is_in(ClassicState.DEAD):
            fx.respond(parked.token, join_response(version, error=ErrorCode.COORDINATOR_NOT_AVAILABLE))
            return
        if not group.supports_protocols(request.protocol_type, {n for n, _ in protocols}):
            fx.respond(parked.token, join_response(version, error=ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
            return
        instance_id = request.group_instance_id if version >= 5 else None
        new_member_id = self.new_member_id(instance_id if instance_id is not None else client_id)
        if instance_id is not None:
            existing = group.static_members.get(instance_id)
            if existing is not None:
                self._update_static_member(request, version, parked, group, existing, new_member_id,
                                           rebalance_timeout, now_ms, fx)
            else:
                self._add_member(request, client_id, client_host, parked, group, new_member_id,
                                 instance_id, rebalance_timeout, now_ms, fx)
        elif version >= 4:
            # KIP-394: a dynamic member must rejoin with the member id it is given.
            group.pending_join.add(new_member_id)
            fx.timers.append(((HEARTBEAT_TIMER, group.group_id, new_member_id),
                              now_ms + request.session_timeout_ms))
            fx.respond(parked.token, join_response(version, error=ErrorCode.MEMBER_ID_REQUIRED,
                                                   member_id=new_member_id))
        else:
            self._add_member(request, client_id, client_host, parked, group, new_member_id, None,
                             rebalance_timeout, now_ms, fx)

    def _join_existing_member(self, request: Any, version: int, client_id: str, client_host: str,
                              parked: Parked, group: ClassicGroup, rebalance_timeout: int, now_ms: int,
                              fx: Effects) -> None:
        member_id = request.member_id
        instance_id = request.group_instance_id if version >= 5 else None
        protocols = protocols_of(request)
        if group.is_in(ClassicState.DEAD):
            fx.respond(parked.token, join_response(version, error=ErrorCode.COORDINATOR_NOT_AVAILABLE,
                                                   member_id=member_id))
            return
        if not group.supports_protocols(request.protocol_type, {n for n, _ in protocols}):
            fx.respond(parked.token, join_response(version, error=ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
                                                   member_id=member_id))
            return
        if member_id in group.pending_join:
            # A pending member (MEMBER_ID_REQUIRED) rejoins: it is added now.
            self._add_member(request, client_id, client_host, parked, group, member_id, None,
                             rebalance_timeout, now_ms, fx)
            return
        try:
            group.validate_member(member_id, instance_id)
        except GroupError as e:
            fx.respond(parked.token, join_response(version, error=e.code, member_id=member_id))
            return
        member = group.members[member_id]
        if group.is_in(ClassicState.PREPARING_REBALANCE):
            self._update_member_and_rebalance(group, member, protocols, rebalance_timeout,
                                              request.session_timeout_ms, parked, now_ms, fx)
        elif group.is_in(ClassicState.COMPLETING_REBALANCE):
            if member.matches(protocols):
                # The member lost its JoinGroup response: give it the current generation again.
                fx.respond(parked.token, join_response(
                    version, member_id=member_id, generation_id=group.generation_id,
                    protocol_type=group.protocol_type, protocol_name=group.protocol_name,
                    leader=group.leader_id,
                    members=group.join_members() if group.is_leader(member_id) else []))
            else:
                self._update_member_and_rebalance(group, member, protocols, rebalance_timeout,
                                                  request.session_timeout_ms, parked, now_ms, fx)
        elif group.is_in(ClassicState.STABLE):
            if group.is_leader(member_id) or not member.matches(protocols):
                # A leader's JoinGroup always rebalances: it may have seen a metadata change.
                self._update_member_and_rebalance(group, member, protocols, rebalance_timeout,
                                                  request.session_timeout_ms, parked, now_ms, fx)
            else:
                fx.respond(parked.token, join_response(
                    version, member_id=member_id, generation_id=group.generation_id,
                    protocol_type=group.protocol_type, protocol_name=group.protocol_name,
                    leader=group.leader_id))
        else:
            fx.respond(parked.token, join_response(version, error=ErrorCode.UNKNOWN_MEMBER_ID,
                                                   member_id=member_id))

    def _add_member(self, request: Any, client_id: str, client_host: str, parked: Parked,
                    group: ClassicGroup, member_id: str, instance_id: str | None,
                    rebalance_timeout: int, now_ms: int, fx: Effects) -> None:
        member = ClassicMember(member_id, instance_id, client_id, client_host, rebalance_timeout,
                               request.session_timeout_ms, request.protocol_type, protocols_of(request))
        member.is_new = True
        if group.is_in(ClassicState.PREPARING_REBALANCE) and group.previous_state == ClassicState.EMPTY:
            group.new_member_added = True
        group.add(member, parked)
        # A new member cannot heartbeat while its JoinGroup is parked: it times out separately.
        self.schedule_heartbeat(group, member, now_ms, fx, NEW_MEMBER_JOIN_TIMEOUT_MS)
        self._maybe_prepare_rebalance_or_complete_join(group, now_ms, fx)

    def _update_member_and_rebalance(self, group: ClassicGroup, member: ClassicMember,
                                     protocols: list[tuple[str, bytes]], rebalance_timeout: int,
                                     session_timeout: int, parked: Parked, now_ms: int, fx: Effects) -> None:
        group.update_member(member, protocols, rebalance_timeout, session_timeout, parked)
        self._maybe_prepare_rebalance_or_complete_join(group, now_ms, fx)

    def _update_static_member(self, request: Any, version: int, parked: Parked, group: ClassicGroup,
                              old_member_id: str, new_member_id: str, rebalance_timeout: int,
                              now_ms: int, fx: Effects) -> None:
        instance_id = request.group_instance_id
        current_leader = group.leader_id
        member = self._replace_static_member(group, instance_id, old_member_id, new_member_id, fx)
        self.cancel_heartbeat(group, old_member_id, fx)
        self.schedule_heartbeat(group, member, now_ms, fx)
        group.update_member(member, protocols_of(request), rebalance_timeout, request.session_timeout_ms,
                            parked)
        if group.is_in(ClassicState.STABLE):
            if (group.protocol_name or "") == group.select_protocol():
                # Nothing changes for the group: persist the new member id without a rebalance.
                assignment = {m.member_id: m.assignment for m in group.members.values()}
                fx.records.append(self._metadata_record(group, assignment))
                is_leader = group.is_leader(new_member_id)
                if version >= 9:
                    self.complete_join(group, member, fx, member_id=new_member_id,
                                       generation_id=group.generation_id, protocol_type=group.protocol_type,
                                       protocol_name=group.protocol_name, leader=group.leader_id,
                                       skip_assignment=is_leader,
                                       members=group.join_members() if is_leader else [])
                else:
                    # Before v9 the leader cannot be told to skip the assignment: the response
                    # names the previous leader id so that a replaced leader acts as a follower.
                    self.complete_join(group, member, fx, member_id=new_member_id,
                                       generation_id=group.generation_id, protocol_type=group.protocol_type,
                                       protocol_name=group.protocol_name, leader=current_leader)
            else:
                self._maybe_prepare_rebalance_or_complete_join(group, now_ms, fx)
        elif group.is_in(ClassicState.COMPLETING_REBALANCE):
            # The old member id may already be in the leader's assignment: rebalance again.
            self._prepare_rebalance(group, now_ms, fx)
        else:
            self._maybe_complete_join_phase(group, now_ms, fx)

    def _replace_static_member(self, group: ClassicGroup, instance_id: str, old_member_id: str,
                               new_member_id: str, fx: Effects) -> ClassicMember:
        old = group.members.pop(old_member_id)
        # Fence the old instance at once if it waits for a join or sync response.
        if old.awaiting_join is not None:
            fx.respond(old.awaiting_join.token, join_response(
                old.awaiting_join.version, error=ErrorCode.FENCED_INSTANCE_ID, member_id=old_member_id))
            old.awaiting_join = None
            group.num_awaiting_join -= 1
        self.complete_sync(old, fx, error=ErrorCode.FENCED_INSTANCE_ID)
        new = ClassicMember(new_member_id, old.instance_id, old.client_id, old.client_host,
                            old.rebalance_timeout_ms, old.session_timeout_ms, old.protocol_type,
                            old.protocols, old.assignment)
        group.members[new_member_id] = new
        if group.leader_id == old_member_id:
            group.leader_id = new_member_id
        group.static_members[instance_id] = new_member_id
        group.pending_sync.discard(old_member_id)
        return new

    # -- rebalancing -------------------------------------------------------------------------

    def _maybe_prepare_rebalance_or_complete_join(self, group: ClassicGroup, now_ms: int, fx: Effects) -> None:
        if group.can_rebalance():
            self._prepare_rebalance(group, now_ms, fx)
        else:
            self._maybe_complete_join_phase(group, now_ms, fx)

    def _maybe_complete_join_phase(self, group: ClassicGroup, now_ms: int, fx: Effects) -> None:
        if not group.is_in(ClassicState.PREPARING_REBALANCE):
            return
        if group.previous_state == ClassicState.EMPTY:
            return  # the initial rebalance waits for its delay
        if group.has_all_members_joined():
            self.complete_join_phase(group, now_ms, fx)

    def _prepare_rebalance(self, group: ClassicGroup, now_ms: int, fx: Effects) -> None:
        if group.is_in(ClassicState.COMPLETING_REBALANCE):
            # Members waiting for their assignment must rejoin instead.
            for member in group.members.values():
                member.assignment = EMPTY_ASSIGNMENT
            self._propagate_assignment(group, ErrorCode.REBALANCE_IN_PROGRESS, now_ms, fx)
        self._remove_sync_expiration(group, fx)
        initial = group.is_in(ClassicState.EMPTY)
        if initial:
            # A new group waits group.initial.rebalance.delay.ms for more members, extended (up
            # to the rebalance timeout) while new members keep joining.
            delay = self.cfg("group.initial.rebalance.delay.ms")
            remaining = max(group.rebalance_timeout_ms() - delay, 0)
            self._schedule_join(group, delay, now_ms, fx, ("initial", delay, remaining))
        group.transition(ClassicState.PREPARING_REBALANCE, now_ms)
        if not initial:
            if group.has_all_members_joined():
                self.complete_join_phase(group, now_ms, fx)
            else:
                self._schedule_join(group, group.rebalance_timeout_ms(), now_ms, fx, ("complete",))

    def on_join_timer(self, group_id: str, now_ms: int) -> Effects:
        fx = Effects()
        group = self._group(group_id)
        if group is None or group.join_timer is None:
            return fx
        kind = group.join_timer
        group.join_timer = None
        if kind[0] == "initial":
            _, delay, remaining = kind
            if group.new_member_added and remaining != 0:
                group.new_member_added = False
                new_delay = min(self.cfg("group.initial.rebalance.delay.ms"), remaining)
                new_remaining = max(remaining - delay, 0)
                self._schedule_join(group, new_delay, now_ms, fx, ("initial", new_delay, new_remaining))
                return fx
        self.complete_join_phase(group, now_ms, fx)
        return fx

    def complete_join_phase(self, group: ClassicGroup, now_ms: int, fx: Effects) -> None:
        self._cancel_join(group, fx)
        for member in [m for m in group.not_yet_rejoined() if m.instance_id is None]:
            group.remove(member.member_id)
            self.cancel_heartbeat(group, member.member_id, fx)
        if group.is_in(ClassicState.DEAD):
            return
        if not group.maybe_elect_new_joined_leader() and group.members:
            # Nobody rejoined: wait another rebalance timeout for the session timeouts to act.
            self._schedule_join(group, group.rebalance_timeout_ms(), now_ms, fx, ("complete",))
            return
        group.init_next_generation(now_ms)
        if group.is_in(ClassicState.EMPTY):
            fx.records.append(self._metadata_record(group, {}))
            return
        for member in group.members.values():
            is_leader = group.is_leader(member.member_id)
            self.complete_join(group, member, fx, member_id=member.member_id,
                               generation_id=group.generation_id, protocol_type=group.protocol_type,
                               protocol_name=group.protocol_name, leader=group.leader_id,
                               members=group.join_members() if is_leader else [])
            self.schedule_heartbeat(group, member, now_ms, fx)
            member.is_new = False
            group.pending_sync.add(member.member_id)
        self._schedule_pending_sync(group, now_ms, fx)

    def _propagate_assignment(self, group: ClassicGroup, error: int, now_ms: int, fx: Effects) -> None:
        ok = error == ErrorCode.NONE
        for member in group.members.values():
            if self.complete_sync(member, fx, error=error,
                                  protocol_type=group.protocol_type if ok else None,
                                  protocol_name=group.protocol_name if ok else None,
                                  assignment=member.assignment):
                self.schedule_heartbeat(group, member, now_ms, fx)

    # -- timers ------------------------------------------------------------------------------

    def on_heartbeat_timer(self, group_id: str, member_id: str, now_ms: int) -> Effects:
        fx = Effects()
        group = self._group(group_id)
        if group is None or group.is_in(ClassicState.DEAD):
            return fx
        if member_id in group.pending_join:
            group.remove(member_id)
            if group.is_in(ClassicState.PREPARING_REBALANCE) and group.has_all_members_joined():
                self.complete_join_phase(group, now_ms, fx)
            return fx
        member = group.members.get(member_id)
        if member is None or member.has_satisfied_heartbeat():
            return fx
        self._remove_member_and_update(group, member, now_ms, fx)
        return fx

    def _remove_member_and_update(self, group: ClassicGroup, member: ClassicMember, now_ms: int,
                                  fx: Effects) -> None:
        # A new member may time out while its JoinGroup is parked: it is told to rejoin.
        self.complete_join(group, member, fx, error=ErrorCode.UNKNOWN_MEMBER_ID)
        group.remove(member.member_id)
        if group.is_in(ClassicState.STABLE, ClassicState.COMPLETING_REBALANCE):
            self._maybe_prepare_rebalance_or_complete_join(group, now_ms, fx)
        elif group.is_in(ClassicState.PREPARING_REBALANCE) and group.has_all_members_joined():
            self.complete_join_phase(group, now_ms, fx)

    def on_sync_timer(self, group_id: str, now_ms: int) -> Effects:
        fx = Effects()
        group = self._group(group_id)
        if group is None or group.sync_timer_generation is None:
            return fx
        generation = group.sync_timer_generation
        group.sync_timer_generation = None
        if generation != group.generation_id:
            return fx
        if group.is_in(ClassicState.COMPLETING_REBALANCE, ClassicState.STABLE) and group.pending_sync:
            for member_id in sorted(group.pending_sync):
                group.remove(member_id)
                self.cancel_heartbeat(group, member_id, fx)
            self._prepare_rebalance(group, now_ms, fx)
        return fx

    # -- SyncGroup ---------------------------------------------------------------------------

    def sync(self, request: Any, version: int, token: Any, now_ms: int) -> Effects:
        fx = Effects()
        if not request.group_id:
            return fx.respond(token, sync_response(error=ErrorCode.INVALID_GROUP_ID))
        group = self.groups.get(request.group_id)
        if group is None or group.is_empty() or not isinstance(group, ClassicGroup):
            return fx.respond(token, sync_response(error=ErrorCode.UNKNOWN_MEMBER_ID))
        member_id = request.member_id
        instance_id = request.group_instance_id if version >= 3 else None
        error = self._validate_sync(group, request, member_id, instance_id, version)
        if error is not None:
            return fx.respond(token, sync_response(error=error))
        if group.is_in(ClassicState.PREPARING_REBALANCE):
            return fx.respond(token, sync_response(error=ErrorCode.REBALANCE_IN_PROGRESS))
        member = group.members[member_id]
        if group.is_in(ClassicState.COMPLETING_REBALANCE):
            member.awaiting_sync = Parked(token, version)
            self._remove_pending_sync_member(group, member_id, fx)
            if group.is_leader(member_id):
                assignment = {a.member_id: bytes(a.assignment) for a in request.assignments}
                for m in group.members.values():
                    assignment.setdefault(m.member_id, EMPTY_ASSIGNMENT)
                fx.records.append(self._metadata_record(group, assignment))
                for m in group.members.values():
                    m.assignment = assignment[m.member_id]
                self._propagate_assignment(group, ErrorCode.NONE, now_ms, fx)
                group.transition(ClassicState.STABLE, now_ms)
            return fx
        # Stable: hand out the member's assignment of the current generation again.
        self._remove_pending_sync_member(group, member_id, fx)
        return fx.respond(token, sync_response(protocol_type=group.protocol_type,
                                               protocol_name=group.protocol_name,
                                               assignment=member.assignment))

    @staticmethod
    def _validate_sync(group: ClassicGroup, request: Any, member_id: str, instance_id: str | None,
                       version: int) -> int | None:
        if group.is_in(ClassicState.DEAD):
            return ErrorCode.COORDINATOR_NOT_AVAILABLE
        try:
            group.validate_member(member_id, instance_id)
        except GroupError as e:
            return e.code
        if request.generation_id != group.generation_id:
            return ErrorCode.ILLEGAL_GENERATION
        if version >= 5:
            def inconsistent(ours: str | None, theirs: str | None) -> bool:
                return theirs is not None and ours is not None and ours != theirs
            if inconsistent(group.protocol_type, request.protocol_type) \
                    or inconsistent(group.protocol_name, request.protocol_name):
                return ErrorCode.INCONSISTENT_GROUP_PROTOCOL
        return None

    # -- Heartbeat ---------------------------------------------------------------------------

    def heartbeat(self, request: Any, version: int, token: Any, now_ms: int) -> Effects:
        fx = Effects()
        if not request.group_id:
            return fx.respond(token, heartbeat_response(ErrorCode.INVALID_GROUP_ID))
        group = self.groups.get(request.group_id)
        if not isinstance(group, ClassicGroup):
            return fx.respond(token, heartbeat_response(ErrorCode.UNKNOWN_MEMBER_ID))
        if group.is_in(ClassicState.DEAD):
            return fx.respond(token, heartbeat_response(ErrorCode.COORDINATOR_NOT_AVAILABLE))
        instance_id = request.group_instance_id if version >= 3 else None
        try:
            group.validate_member(request.member_id, instance_id)
        except GroupError as e:
            return fx.respond(token, heartbeat_response(e.code))
        if request.generation_id != group.generation_id:
            return fx.respond(token, heartbeat_response(ErrorCode.ILLEGAL_GENERATION))
        if group.is_in(ClassicState.EMPTY):
            return fx.respond(token, heartbeat_response(ErrorCode.UNKNOWN_MEMBER_ID))
        self.schedule_heartbeat(group, group.members[request.member_id], now_ms, fx)
        if group.is_in(ClassicState.PREPARING_REBALANCE):
            return fx.respond(token, heartbeat_response(ErrorCode.REBALANCE_IN_PROGRESS))
        return fx.respond(token, heartbeat_response())

    # -- LeaveGroup --------------------------------------------------------------------------

    def leave(self, request: Any, version: int, token: Any, now_ms: int) -> Effects:
        fx = Effects()
        R = LeaveGroupResponse
        if version < 3:
            identities = [(request.member_id, None, None)]
        else:
            identities = [(m.member_id, m.group_instance_id, m.reason) for m in request.members]
        if not request.group_id:
            return fx.respond(token, R(throttle_time_ms=0, error_code=ErrorCode.INVALID_GROUP_ID, members=[]))
        group = self.groups.get(request.group_id)
        if not isinstance(group, ClassicGroup):
            return fx.respond(token, R(throttle_time_ms=0, error_code=ErrorCode.UNKNOWN_MEMBER_ID, members=[]))
        if group.is_in(ClassicState.DEAD):
            return fx.respond(token, R(throttle_time_ms=0, error_code=ErrorCode.COORDINATOR_NOT_AVAILABLE,
                                       members=[]))
        responses = []
        left = []
        for member_id, instance_id, _reason in identities:
            code = ErrorCode.NONE
            if member_id == UNKNOWN_MEMBER_ID:
                # Administrative removal by group.instance.id.
                if instance_id is not None and instance_id in group.static_members:
                    self._remove_current_member(group, group.static_members[instance_id], fx)
                else:
                    code = ErrorCode.UNKNOWN_MEMBER_ID
            elif member_id in group.pending_join:
                group.remove(member_id)
                self.cancel_heartbeat(group, member_id, fx)
            else:
                try:
                    group.validate_member(member_id, instance_id)
                    self._remove_current_member(group, member_id, fx)
                except GroupError as e:
                    code = e.code
            responses.append(R.MemberResponse(member_id=member_id, group_instance_id=instance_id,
                                              error_code=code))
            if code == ErrorCode.NONE:
                left.append(member_id)
        if left:
            if group.is_in(ClassicState.STABLE, ClassicState.COMPLETING_REBALANCE):
                self._maybe_prepare_rebalance_or_complete_join(group, now_ms, fx)
            elif group.is_in(ClassicState.PREPARING_REBALANCE):
                self._maybe_complete_join_phase(group, now_ms, fx)
        if version < 3:
            return fx.respond(token, R(throttle_time_ms=0, error_code=responses[0].error_code, members=[]))
        return fx.respond(token, R(throttle_time_ms=0, error_code=ErrorCode.NONE, members=responses))

    def _remove_current_member(self, group: ClassicGroup, member_id: str, fx: Effects) -> None:
        member = group.members[member_id]
        self.cancel_heartbeat(group, member_id, fx)
        self.complete_join(group, member, fx, error=ErrorCode.UNKNOWN_MEMBER_ID)
        group.remove(member_id)

    # -- offsets keep the session -----------------------------------------------------------

    def on_offset_commit(self, group: ClassicGroup, member_id: str, now_ms: int, fx: Effects) -> None:
        """An offset commit of a member of a Stable or PreparingRebalance group counts as a heartbeat."""
        if group.is_in(ClassicState.STABLE, ClassicState.PREPARING_REBALANCE):
            member = group.members.get(member_id)
            if member is not None:
                self.schedule_heartbeat(group, member, now_ms, fx)

    # -- loading and unloading ---------------------------------------------------------------

    def on_loaded(self, now_ms: int, fx: Effects) -> None:
        for group in list(self.groups.values()):
            if not isinstance(group, ClassicGroup):
                continue
            for member in group.members.values():
                self.schedule_heartbeat(group, member, now_ms, fx)
            if len(group.members) > self.cfg("group.max.size"):
                # The limit may have been lowered: rebalance so members can commit and leave.
                self._prepare_rebalance(group, now_ms, fx)

    def on_unloaded(self, fx: Effects) -> None:
        for group in self.groups.values():
            if not isinstance(group, ClassicGroup):
                continue
            previous = group.state
            group.previous_state, group.state = previous, ClassicState.DEAD
            for member in group.members.values():
                if previous == ClassicState.PREPARING_REBALANCE:
                    self.complete_join(group, member, fx, error=ErrorCode.NOT_COORDINATOR,
                                       member_id=member.member_id)
                elif previous in (ClassicState.COMPLETING_REBALANCE, ClassicState.STABLE):
                    self.complete_sync(member, fx, error=ErrorCode.NOT_COORDINATOR)


def iter_classic(groups: Iterable[Any]) -> Iterable[ClassicGroup]:
    return (g for g in groups if isinstance(g, ClassicGroup))
