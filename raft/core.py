"""The sans-I/O Raft state machine of one replica: roles, epochs, votes, the high watermark.

It takes events (start, timer polls, log appended/flushed, messages from peers) and returns
actions for a driver to carry out (persist the election state, append a LeaderChange record,
send a message, publish a new high watermark or leader). It does no I/O and reads no clock.

Roles follow KRaft: Unattached (no leader known; possibly voted), Candidate, Leader,
Follower, Resigned (a leader that stepped down). A sole voter goes from start to Leader of
the next epoch at once. Multi-voter elections (Vote) are modelled; log replication (Fetch,
BeginQuorumEpoch, EndQuorumEpoch, FetchSnapshot) is a seam for a later issue.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable, Union

from raft.errors import NotLeaderError
from raft.quorum_state import ElectionState
from raft.types import LeaderAndEpoch, OffsetAndEpoch


class Role(Enum):
    UNATTACHED = "Unattached"
    PROSPECTIVE = "Prospective"  # pre-vote (KIP-996): a seam, not entered yet
    CANDIDATE = "Candidate"
    LEADER = "Leader"
    FOLLOWER = "Follower"
    RESIGNED = "Resigned"


@dataclass(frozen=True, slots=True)
class RaftConfig:
    """Timeouts under Kafka's names (controller.quorum.*)."""

    election_timeout_ms: int = 1000
    fetch_timeout_ms: int = 2000
    election_backoff_max_ms: int = 1000


# --- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersistElectionState:
    state: ElectionState


@dataclass(frozen=True, slots=True)
class AppendLeaderChange:
    """Write the LeaderChange control record that opens `epoch` at the log end."""

    epoch: int
    leader_id: int
    voters: tuple[int, ...]
    granting_voters: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LeaderChanged:
    leader: LeaderAndEpoch
    epoch_start_offset: int | None = None  # where the leader's epoch begins (leaders only)


@dataclass(frozen=True, slots=True)
class HighWatermarkAdvanced:
    high_watermark: int


@dataclass(frozen=True, slots=True)
class VoteRequest:
    candidate_id: int
    candidate_epoch: int
    last_offset: int
    last_offset_epoch: int


@dataclass(frozen=True, slots=True)
class VoteResponse:
    voter_id: int
    epoch: int
    granted: bool
    leader_id: int | None = None


@dataclass(frozen=True, slots=True)
class SendMessage:
    destination: int
    message: Union[VoteRequest, VoteResponse]


Action = Union[PersistElectionState, AppendLeaderChange, LeaderChanged, HighWatermarkAdvanced, SendMessage]


# --- per-role state ------------------------------------------------------------------------


@dataclass(slots=True)
class _LeaderState:
    epoch_start_offset: int
    # durable (flushed) end offset reported by each voter, the leader included
    end_offsets: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class _CandidateState:
    granted: set[int] = field(default_factory=set)
    rejected: set[int] = field(default_factory=set)


class RaftCore:
    """The consensus state of replica `node_id` for a static voter set."""

    def __init__(self, node_id: int, voters: Iterable[int], config: RaftConfig | None = None,
                 rng: random.Random | None = None) -> None:
        self.node_id = node_id
        self.voters = frozenset(voters)
        self.config = config or RaftConfig()
        self._rng = rng or random.Random()
        self.role = Role.UNATTACHED
        self.epoch = 0
        self.leader_id: int | None = None
        self.voted_id: int | None = None
        self.high_watermark: int | None = None
        self._log_end = OffsetAndEpoch(0, 0)  # appended (not necessarily flushed)
        self._leader: _LeaderState | None = None
        self._candidate: _CandidateState | None = None
        self._deadline: int | None = None  # election / fetch timeout
        self._started = False

    # -- queries -------------------------------------------------------------------------

    @property
    def is_voter(self) -> bool:
        return self.node_id in self.voters

    @property
    def is_sole_voter(self) -> bool:
        return self.voters == {self.node_id}

    @property
    def is_leader(self) -> bool:
        return self.role is Role.LEADER

    @property
    def majority(self) -> int:
        return len(self.voters) // 2 + 1

    def leader_and_epoch(self) -> LeaderAndEpoch:
        return LeaderAndEpoch(self.leader_id, self.epoch)

    @property
    def epoch_start_offset(self) -> int | None:
        return self._leader.epoch_start_offset if self._leader is not None else None

    def election_state(self) -> ElectionState:
        return ElectionState(self.epoch, self.leader_id, None if self.leader_id is not None else self.voted_id,
                             self.voters)

    def check_append(self) -> int:
        """The epoch to stamp a leader append with; NotLeaderError unless leading."""
        if self.role is not Role.LEADER:
            raise NotLeaderError(self.leader_id, self.epoch)
        return self.epoch

    def next_deadline(self) -> int | None:
        """When `poll` next has something to do (None: nothing scheduled)."""
        return self._deadline

    # -- transitions ---------------------------------------------------------------------

    def _persist(self) -> PersistElectionState:
        return PersistElectionState(self.election_state())

    def _reset_state(self, epoch: int, role: Role, leader: int | None, voted: int | None) -> None:
        self.epoch, self.role, self.leader_id, self.voted_id = epoch, role, leader, voted
        self._leader = None
        self._candidate = None
        self.high_watermark = None  # a new role learns the commit point afresh

    def _election_timeout(self, now: int) -> int:
        t = self.config.election_timeout_ms
        return now + t + self._rng.randrange(t)

    def _become_unattached(self, epoch: int, now: int, voted: int | None = None) -> list[Action]:
        self._reset_state(epoch, Role.UNATTACHED, None, voted)
        self._deadline = self._election_timeout(now) if self.is_voter else None
        return [self._persist(), LeaderChanged(self.leader_and_epoch())]

    def _become_follower(self, epoch: int, leader: int, now: int) -> list[Action]:
        self._reset_state(epoch, Role.FOLLOWER, leader, None)
        self._deadline = now + self.config.fetch_timeout_ms
        return [self._persist(), LeaderChanged(self.leader_and_epoch())]

    def _become_candidate(self, now: int) -> list[Action]:
        self._reset_state(self.epoch + 1, Role.CANDIDATE, None, self.node_id)
        self._candidate = _CandidateState(granted={self.node_id})
        self._deadline = self._election_timeout(now)
        actions: list[Action] = [self._persist(), LeaderChanged(self.leader_and_epoch())]
        if len(self._candidate.granted) >= self.majority:
            return actions + self._become_leader(now)
        request = VoteRequest(self.node_id, self.epoch, self._log_end.offset, self._log_end.epoch)
        actions += [SendMessage(v, request) for v in sorted(self.voters - {self.node_id})]
        return actions

    def _become_leader(self, now: int) -> list[Action]:
        granted = tuple(sorted(self._candidate.granted)) if self._candidate else (self.node_id,)
        self._reset_state(self.epoch, Role.LEADER, self.node_id, None)
        start = self._log_end.offset
        self._leader = _LeaderState(epoch_start_offset=start)
        self._deadline = None
        return [
            self._persist(),
            AppendLeaderChange(self.epoch, self.node_id, tuple(sorted(self.voters)), granted),
            LeaderChanged(self.leader_and_epoch(), start),
        ]

    # -- events --------------------------------------------------------------------------

    def start(self, stored: ElectionState | None, log_end: OffsetAndEpoch, now: int) -> list[Action]:
        """Restore the durable state (as Kafka's QuorumState.initialize) and, as a sole voter,
        elect ourselves leader of the next epoch."""
        if self._started:
            raise RuntimeError("raft core already started")
        self._started = True
        self._log_end = log_end
        stored = stored or ElectionState(0)
        actions: list[Action] = []
        if log_end.epoch > stored.epoch:
            # The log saw an epoch the state file never recorded (it was lost): move past it.
            actions += self._become_unattached(log_end.epoch, now)
        elif stored.leader_id == self.node_id:
            self._reset_state(stored.epoch, Role.RESIGNED, self.node_id, None)
            self._deadline = self._election_timeout(now)
            actions.append(LeaderChanged(self.leader_and_epoch()))
        elif stored.leader_id is not None:
            actions += self._become_follower(stored.epoch, stored.leader_id, now)
        elif stored.voted_id == self.node_id and self.is_voter:
            # A candidacy interrupted by the restart: resume it in the same epoch.
            self._reset_state(stored.epoch, Role.CANDIDATE, None, self.node_id)
            self._candidate = _CandidateState(granted={self.node_id})
            self._deadline = self._election_timeout(now)
            actions.append(LeaderChanged(self.leader_and_epoch()))
        else:
            self._reset_state(stored.epoch, Role.UNATTACHED, None, stored.voted_id)
            self._deadline = self._election_timeout(now) if self.is_voter else None
            actions.append(LeaderChanged(self.leader_and_epoch()))
        if self.is_sole_voter and self.role is not Role.LEADER:
            actions += self._become_candidate(now)
        return actions

    def poll(self, now: int) -> list[Action]:
        """Fire expired timers: an election timeout makes a voter a candidate."""
        if self._deadline is None or now < self._deadline:
            return []
        if self.role in (Role.UNATTACHED, Role.CANDIDATE, Role.RESIGNED) and self.is_voter:
            return self._become_candidate(now)
        if self.role is Role.FOLLOWER and self.is_voter:
            # The leader went silent for fetch.timeout: stand for election.
            return self._become_candidate(now)
        self._deadline = None
        return []

    def on_log_appended(self, end: OffsetAndEpoch) -> None:
        """The local log now ends at `end` (not yet durable)."""
        self._log_end = end

    def on_log_flushed(self, end_offset: int) -> list[Action]:
        """The local log is durable up to `end_offset`; a leader counts it towards commit."""
        if self._leader is None:
            return []
        return self._update_end_offset(self.node_id, end_offset)

    def on_log_truncated(self, end: OffsetAndEpoch) -> None:
        self._log_end = end
        if self.high_watermark is not None and self.high_watermark > end.offset:
            self.high_watermark = end.offset

    def _update_end_offset(self, voter: int, end_offset: int) -> list[Action]:
        leader = self._leader
        assert leader is not None
        if voter not in self.voters:
            return []
        if end_offset <= leader.end_offsets.get(voter, -1):
            return []
        leader.end_offsets[voter] = end_offset
        offsets = sorted((leader.end_offsets.get(v, -1) for v in self.voters), reverse=True)
        candidate = offsets[self.majority - 1]
        # Only a record of its own epoch commits a leader's log (Raft's current-term rule):
        # the LeaderChange record at the epoch start must be covered.
        if candidate > leader.epoch_start_offset and (self.high_watermark is None or candidate > self.high_watermark):
            self.high_watermark = candidate
            return [HighWatermarkAdvanced(candidate)]
        return []

    def resign(self, now: int) -> list[Action]:
        """Step down (graceful shutdown). The state file keeps the epoch and leader so that a
        restart resumes as Resigned and elects a new epoch."""
        if self.role is not Role.LEADER:
            return []
        self.role = Role.RESIGNED
        self._leader = None
        self._deadline = self._election_timeout(now)
        return []

    # -- messages from peers (the multi-voter seam) ---------------------------------------

    def handle_vote_request(self, req: VoteRequest, now: int) -> tuple[VoteResponse, list[Action]]:
        actions: list[Action] = []
        if req.candidate_epoch < self.epoch or req.candidate_id not in self.voters:
            return VoteResponse(self.node_id, self.epoch, False, self.leader_id), actions
        if req.candidate_epoch > self.epoch:
            actions += self._become_unattached(req.candidate_epoch, now)
        ours = (self._log_end.epoch, self._log_end.offset)
        theirs = (req.last_offset_epoch, req.last_offset)
        can_vote = self.leader_id is None and self.voted_id in (None, req.candidate_id) \
            and self.role in (Role.UNATTACHED,)
        granted = can_vote and theirs >= ours
        if granted and self.voted_id is None:
            self.voted_id = req.candidate_id
            self._deadline = self._election_timeout(now)
            actions.append(self._persist())
        return VoteResponse(self.node_id, self.epoch, granted, self.leader_id), actions

    def handle_vote_response(self, resp: VoteResponse, now: int) -> list[Action]:
        if resp.epoch > self.epoch:
            if resp.leader_id is not None:
                return self._become_follower(resp.epoch, resp.leader_id, now)
            return self._become_unattached(resp.epoch, now)
        if self.role is not Role.CANDIDATE or resp.epoch < self.epoch or self._candidate is None:
            return []
        (self._candidate.granted if resp.granted else self._candidate.rejected).add(resp.voter_id)
        if len(self._candidate.granted) >= self.majority:
            return self._become_leader(now)
        return []

    def handle_replication_message(self, message: object, now: int) -> list[Action]:
        """Fetch, BeginQuorumEpoch, EndQuorumEpoch and FetchSnapshot arrive with multi-voter
        replication, which a later issue adds."""
        raise NotImplementedError(f"raft replication message {type(message).__name__} is not supported yet")
