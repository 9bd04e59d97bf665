"""The marker writer with a scripted sender: partitions grouped by leader, retries with backoff,
deleted partitions skipped, fenced markers given up, completion reported to the shard."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from protocol.errors import ErrorCode
from pybroker.transactions.markers import MarkerWriter
from pybroker.transactions.shard import WriteMarkers

E = ErrorCode


class FakeRuntime:
    def __init__(self, epoch: int = 5) -> None:
        self.shards = {0: SimpleNamespace(leader_epoch=epoch)}
        self.completed: list = []

    def run(self, partition, op):
        shard = SimpleNamespace(markers_written=lambda action, now: self.completed.append(action))
        op(shard, 0)


class FakeImage:
    def __init__(self, leaders: dict) -> None:
        self.leaders = leaders

    def partition(self, topic, index):
        leader = self.leaders.get((topic, index))
        return None if leader is None else SimpleNamespace(leader=leader)


def run_writer(action, leaders, answers):
    """answers: broker id -> list of {tp: code} per call (the last one repeats)."""
    calls: list = []
    runtime = FakeRuntime()

    async def send(broker_id, entries):
        [entry] = entries
        calls.append((broker_id, entry.partitions, entry.commit, entry.coordinator_epoch))
        script = answers[broker_id]
        codes = script.pop(0) if len(script) > 1 else script[0]
        return [{tp: codes.get(tp, E.NONE) for tp in entry.partitions}]

    async def scenario():
        broker = SimpleNamespace(image=FakeImage(leaders), node_id=1)
        writer = MarkerWriter(broker, lambda: runtime, send=send, max_backoff_s=0.01)
        writer.on_actions(0, [action])
        for _ in range(200):
            await asyncio.sleep(0.005)
            if not writer._tasks:
                break
        writer.close()

    asyncio.run(scenario())
    return calls, runtime.completed


def action(*tps, commit=True):
    return WriteMarkers("tx", 7, 2, 5, commit, frozenset(tps))


def test_groups_by_leader_and_completes():
    a = action(("t", 0), ("t", 1), ("u", 0))
    calls, done = run_writer(a, {("t", 0): 1, ("t", 1): 2, ("u", 0): 1}, {1: [{}], 2: [{}]})
    assert sorted(calls) == [(1, (("t", 0), ("u", 0)), True, 5), (2, (("t", 1),), True, 5)]
    assert done == [a]


def test_retries_what_failed_then_completes():
    a = action(("t", 0), ("t", 1), commit=False)
    calls, done = run_writer(a, {("t", 0): 1, ("t", 1): 1},
                             {1: [{("t", 1): E.NOT_LEADER_OR_FOLLOWER}, {("t", 1): E.REQUEST_TIMED_OUT}, {}]})
    assert [c[1] for c in calls] == [(("t", 0), ("t", 1)), (("t", 1),), (("t", 1),)]
    assert done == [a]


def test_deleted_partitions_count_as_written():
    a = action(("t", 0), ("gone", 0))
    calls, done = run_writer(a, {("t", 0): 1}, {1: [{}]})
    assert calls == [(1, (("t", 0),), True, 5)]
    assert done == [a]


def test_fenced_markers_are_given_up():
    a = action(("t", 0))
    calls, done = run_writer(a, {("t", 0): 1}, {1: [{("t", 0): E.INVALID_PRODUCER_EPOCH}]})
    assert len(calls) == 1 and done == []


def test_a_moved_coordinator_stops_writing():
    a = WriteMarkers("tx", 7, 2, 4, True, frozenset({("t", 0)}))  # epoch 4: the shard is at 5
    calls, done = run_writer(a, {("t", 0): 1}, {1: [{}]})
    assert calls == [] and done == []
