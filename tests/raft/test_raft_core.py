"""The sans-I/O raft core: elections, epochs, roles and the high watermark, without I/O."""

from __future__ import annotations

import random

import pytest

from raft.core import (
    AppendLeaderChange, HighWatermarkAdvanced, LeaderChanged, PersistElectionState, RaftCore, Role,
    SendMessage, VoteRequest, VoteResponse,
)
from raft.errors import NotLeaderError
from raft.quorum_state import ElectionState
from raft.types import LeaderAndEpoch, OffsetAndEpoch


def kinds(actions):
    return [type(a).__name__ for a in actions]


def test_sole_voter_elects_itself_on_start():
    core = RaftCore(1, [1])
    actions = core.start(None, OffsetAndEpoch(0, 0), now=0)
    assert core.role is Role.LEADER and core.epoch == 1 and core.leader_id == 1
    persisted = [a.state for a in actions if isinstance(a, PersistElectionState)]
    assert persisted == [ElectionState(1, None, 1, frozenset({1})), ElectionState(1, 1, None, frozenset({1}))]
    [append] = [a for a in actions if isinstance(a, AppendLeaderChange)]
    assert append == AppendLeaderChange(1, 1, (1,), (1,))
    assert actions[-1] == LeaderChanged(LeaderAndEpoch(1, 1), 0)
    assert core.check_append() == 1
    assert core.high_watermark is None


def test_restart_as_former_leader_moves_to_next_epoch():
    core = RaftCore(1, [1])
    core.start(ElectionState(3, 1, None, frozenset({1})), OffsetAndEpoch(10, 3), now=0)
    assert core.role is Role.LEADER and core.epoch == 4
    assert core.epoch_start_offset == 10


def test_log_epoch_ahead_of_state_file():
    core = RaftCore(1, [1])
    actions = core.start(ElectionState(2), OffsetAndEpoch(5, 7), now=0)
    assert core.epoch == 8
    assert PersistElectionState(ElectionState(7, None, None, frozenset({1}))) in actions


def test_high_watermark_needs_a_durable_record_of_the_new_epoch():
    core = RaftCore(1, [1])
    core.start(None, OffsetAndEpoch(4, 0), now=0)
    assert core.epoch_start_offset == 4
    assert core.on_log_flushed(4) == []  # the old log alone does not commit
    core.on_log_appended(OffsetAndEpoch(5, 1))
    assert core.on_log_flushed(5) == [HighWatermarkAdvanced(5)]
    assert core.high_watermark == 5
    assert core.on_log_flushed(5) == []
    core.on_log_appended(OffsetAndEpoch(9, 1))
    assert core.on_log_flushed(9) == [HighWatermarkAdvanced(9)]


def test_not_leader_cannot_append():
    core = RaftCore(1, [1, 2, 3], rng=random.Random(1))
    core.start(None, OffsetAndEpoch(0, 0), now=0)
    assert core.role is Role.UNATTACHED
    with pytest.raises(NotLeaderError):
        core.check_append()


def test_three_voter_election_by_messages():
    nodes = {i: RaftCore(i, [1, 2, 3], rng=random.Random(i)) for i in (1, 2, 3)}
    for n in nodes.values():
        n.start(None, OffsetAndEpoch(0, 0), now=0)
    deadline = nodes[1].next_deadline()
    actions = nodes[1].poll(deadline)
    assert nodes[1].role is Role.CANDIDATE and nodes[1].epoch == 1
    requests = [a for a in actions if isinstance(a, SendMessage)]
    assert sorted(a.destination for a in requests) == [2, 3]
    resp, follow_up = nodes[2].handle_vote_request(requests[0].message, now=deadline)
    assert resp.granted and nodes[2].voted_id == 1
    assert PersistElectionState(ElectionState(1, None, 1, frozenset({1, 2, 3}))) in follow_up
    actions = nodes[1].handle_vote_response(resp, now=deadline)
    assert nodes[1].role is Role.LEADER
    assert any(isinstance(a, AppendLeaderChange) for a in actions)
    # Majority commit: the leader's own flush is not enough with three voters.
    nodes[1].on_log_appended(OffsetAndEpoch(1, 1))
    assert nodes[1].on_log_flushed(1) == []
    assert nodes[1]._update_end_offset(3, 1) == [HighWatermarkAdvanced(1)]


def test_vote_rejected_for_stale_log_or_second_candidate():
    core = RaftCore(2, [1, 2, 3], rng=random.Random(0))
    core.start(None, OffsetAndEpoch(10, 4), now=0)
    resp, _ = core.handle_vote_request(VoteRequest(1, 5, last_offset=3, last_offset_epoch=4), now=0)
    assert not resp.granted and core.epoch == 5
    resp, _ = core.handle_vote_request(VoteRequest(3, 5, last_offset=10, last_offset_epoch=4), now=0)
    assert resp.granted
    resp, _ = core.handle_vote_request(VoteRequest(1, 5, last_offset=20, last_offset_epoch=5), now=0)
    assert not resp.granted  # already voted for 3 in epoch 5
    resp, _ = core.handle_vote_request(VoteRequest(1, 4, last_offset=20, last_offset_epoch=5), now=0)
    assert not resp.granted and resp.epoch == 5


def test_higher_epoch_response_demotes_candidate():
    core = RaftCore(1, [1, 2, 3], rng=random.Random(0))
    core.start(None, OffsetAndEpoch(0, 0), now=0)
    core.poll(core.next_deadline())
    core.handle_vote_response(VoteResponse(2, 9, False, leader_id=3), now=0)
    assert core.role is Role.FOLLOWER and core.leader_id == 3 and core.epoch == 9


def test_replication_messages_are_a_seam():
    core = RaftCore(1, [1])
    with pytest.raises(NotImplementedError):
        core.handle_replication_message(object(), now=0)
