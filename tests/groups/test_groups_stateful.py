"""Stateful property tests of the group coordinator: random joins, leaves, heartbeats, commits,
clock jumps (session and rebalance timeouts) and restarts never break the invariants.

Classic: within a generation, the assignments SyncGroup hands out never overlap, and an offset
commit is accepted exactly when it comes from a current member with the current generation.
Consumer (KIP-848): no partition is ever in two members' current assignments, members in good
standing never own the same partition, and a commit is accepted exactly when its member epoch
is the member's current one. Both: a restart (replaying the log) restores the persisted state.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from protocol.errors import ErrorCode
from pybroker.groups.classic import ClassicGroup, ClassicState
from pybroker.groups.consumer import ConsumerGroup

from group_harness import Harness, topic_id

E = ErrorCode
N_PARTITIONS = 6
SESSION = 10_000
REBALANCE = 8_000

CLIENTS = st.integers(min_value=0, max_value=3)
SLEEPS = st.sampled_from([100, 1_000, 4_000, 9_000, 11_000, 20_000])


def encode_assignment(partitions: list[int]) -> bytes:
    return ",".join(map(str, partitions)).encode()


def decode_assignment(data: bytes) -> list[int]:
    return [int(x) for x in data.decode().split(",")] if data else []


class ClassicClient:
    def __init__(self, slot: int, static: bool) -> None:
        self.slot = slot
        self.instance_id = f"i-{slot}" if static else None
        self.reset()

    def reset(self) -> None:
        self.member_id = ""
        self.generation = -1
        self.join_token = None
        self.sync_token = None

    @property
    def busy(self) -> bool:
        return self.join_token is not None or self.sync_token is not None


class ClassicMachine(RuleBasedStateMachine):
    @initialize(statics=st.lists(st.booleans(), min_size=4, max_size=4), delay=st.sampled_from([0, 3000]))
    def setup(self, statics, delay):
        self.h = Harness(topics={"t": N_PARTITIONS}, overrides={"group.initial.rebalance.delay.ms": delay})
        self.clients = [ClassicClient(i, s) for i, s in enumerate(statics)]
        # generation -> client slot -> partitions handed out by SyncGroup
        self.handed: dict[int, dict[int, list[int]]] = {}

    # -- the simulated clients ---------------------------------------------------------------

    def _join(self, c: ClassicClient) -> None:
        t, r = self.h.join("g", c.member_id, instance_id=c.instance_id, session=SESSION, rebalance=REBALANCE)
        if r is not None and r.error_code == E.MEMBER_ID_REQUIRED:
            c.member_id = r.member_id
            t, r = self.h.join("g", c.member_id, session=SESSION, rebalance=REBALANCE)
        c.join_token = t
        self._process()

    def _process(self) -> None:
        progress = True
        while progress:
            progress = False
            for c in self.clients:
                if c.join_token is not None and c.join_token in self.h.responses:
                    r = self.h.responses.pop(c.join_token)
                    c.join_token = None
                    progress = True
                    self._on_join(c, r)
                if c.sync_token is not None and c.sync_token in self.h.responses:
                    r = self.h.responses.pop(c.sync_token)
                    c.sync_token = None
                    progress = True
                    self._on_sync(c, r)

    def _on_join(self, c: ClassicClient, r) -> None:
        if r.error_code != E.NONE:
            if r.error_code in (E.UNKNOWN_MEMBER_ID, E.FENCED_INSTANCE_ID, E.NOT_COORDINATOR):
                c.reset()
            return
        c.member_id, c.generation = r.member_id, r.generation_id
        members = sorted(m.member_id for m in r.members)
        assert len(members) == len(set(members))
        assignments = None
        if r.leader == c.member_id and not r.skip_assignment:
            assert members, "the leader gets the member list"
            assignments = {m: encode_assignment([p for p in range(N_PARTITIONS) if p % len(members) == i])
                           for i, m in enumerate(members)}
        t, resp = self.h.sync("g", c.member_id, c.generation, assignments, instance_id=c.instance_id)
        c.sync_token = t

    def _on_sync(self, c: ClassicClient, r) -> None:
        if r.error_code != E.NONE:
            if r.error_code in (E.UNKNOWN_MEMBER_ID, E.FENCED_INSTANCE_ID, E.NOT_COORDINATOR):
                c.reset()
            return
        parts = decode_assignment(r.assignment)
        by_slot = self.handed.setdefault(c.generation, {})
        for slot, other in by_slot.items():
            if slot != c.slot:
                assert not set(other) & set(parts), (
                    f"generation {c.generation}: {parts} to slot {c.slot} overlaps {other} of slot {slot}")
        by_slot[c.slot] = parts

    # -- rules -------------------------------------------------------------------------------

    @rule(i=CLIENTS)
    def join(self, i):
        c = self.clients[i]
        if not c.busy:
            self._join(c)

    @rule(i=CLIENTS)
    def heartbeat(self, i):
        c = self.clients[i]
        if c.busy or not c.member_id or c.generation < 0:
            return
        r = self.h.heartbeat("g", c.member_id, c.generation, instance_id=c.instance_id)
        if r.error_code in (E.UNKNOWN_MEMBER_ID, E.FENCED_INSTANCE_ID):
            c.reset()
        if r.error_code in (E.REBALANCE_IN_PROGRESS, E.ILLEGAL_GENERATION, E.UNKNOWN_MEMBER_ID):
            self._join(c)

    @rule(i=CLIENTS)
    def leave(self, i):
        c = self.clients[i]
        if c.member_id:
            self.h.leave("g", [(c.member_id, c.instance_id)])
            self._process()
            c.reset()

    @rule(i=CLIENTS, offset=st.integers(min_value=0, max_value=100))
    def commit(self, i, offset):
        c = self.clients[i]
        if not c.member_id or c.generation < 0:
            return
        g = self.h.shard.groups.get("g")
        valid = (isinstance(g, ClassicGroup) and c.member_id in g.members
                 and g.generation_id == c.generation and g.state != ClassicState.COMPLETING_REBALANCE
                 and (c.instance_id is None or g.static_members.get(c.instance_id) == c.member_id))
        r = self.h.commit("g", {("t", 0): offset}, generation=c.generation, member_id=c.member_id,
                          instance_id=c.instance_id, version=8)
        accepted = r.topics[0].partitions[0].error_code == E.NONE
        assert accepted == valid, (r, valid)
        if accepted:
            assert self.h.committed("g") == offset
        self._process()

    @rule(ms=SLEEPS)
    def sleep(self, ms):
        self.h.advance(ms)
        self._process()

    @rule()
    def restart(self):
        before = self._persisted()
        self.h.apply(self.h.shard.on_unloaded())
        self._process()
        self.h.restart()
        after = self._persisted()
        assert after == before
        for c in self.clients:
            c.join_token = c.sync_token = None

    def _persisted(self):
        g = self.h.shard.groups.get("g")
        if not isinstance(g, ClassicGroup):
            return None
        last = None
        from pybroker.groups import records as rec
        for r, _, _ in reversed(self.h.log):
            d = rec.decode(r)
            if d.type == rec.RecordType.GROUP_METADATA:
                last = d.value
                break
        return last, self.h.shard.offsets.group_offsets("g")

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def group_bookkeeping(self):
        g = getattr(self, "h", None) and self.h.shard.groups.get("g")
        if not isinstance(g, ClassicGroup):
            return
        assert g.num_awaiting_join == sum(1 for m in g.members.values() if m.awaiting_join is not None)
        assert g.leader_id is None or g.leader_id in g.members
        assert (g.leader_id is None) == (not g.members)
        assert g.static_members == {m.instance_id: m.member_id for m in g.members.values() if m.instance_id}
        if g.state == ClassicState.EMPTY:
            assert not g.members
        if g.state == ClassicState.STABLE:
            assert all(m.awaiting_join is None for m in g.members.values())


class ConsumerClient:
    def __init__(self, slot: int, static: bool) -> None:
        self.member_id = f"m{slot}"
        self.instance_id = f"s{slot}" if static else None
        self.incarnation = 0
        self.epoch: int | None = None
        self.owned: list[int] = []
        self.topics = ["t"]


class ConsumerMachine(RuleBasedStateMachine):
    @initialize(statics=st.lists(st.booleans(), min_size=4, max_size=4),
                assignor=st.sampled_from(["uniform", "range"]))
    def setup(self, statics, assignor):
        self.h = Harness(topics={"t": N_PARTITIONS})
        self.assignor = assignor
        self.clients = [ConsumerClient(i, s) for i, s in enumerate(statics)]

    def _group(self) -> ConsumerGroup | None:
        g = self.h.shard.groups.get("g")
        return g if isinstance(g, ConsumerGroup) else None

    def _owned_all(self, c: ConsumerClient):
        return [("t", c.owned)] if c.owned else []

    def _adopt(self, c: ConsumerClient, r) -> None:
        if r.error_code == E.NONE:
            c.epoch = r.member_epoch
            if r.assignment is not None:
                c.owned = sorted(p for tp in r.assignment.topic_partitions if tp.topic_id == topic_id("t")
                                 for p in tp.partitions)
        elif r.error_code in (E.FENCED_MEMBER_EPOCH, E.UNKNOWN_MEMBER_ID, E.FENCED_INSTANCE_ID,
                              E.GROUP_ID_NOT_FOUND):
            c.epoch, c.owned = None, []

    @rule(i=CLIENTS)
    def join(self, i):
        c = self.clients[i]
        if c.epoch is not None:
            return
        r = self.h.cg_heartbeat("g", c.member_id, 0, topics=c.topics, rebalance=REBALANCE, owned=[],
                                instance_id=c.instance_id, assignor=self.assignor)
        self._adopt(c, r)

    @rule(i=CLIENTS, report_owned=st.booleans())
    def heartbeat(self, i, report_owned):
        c = self.clients[i]
        if c.epoch is None:
            return
        r = self.h.cg_heartbeat("g", c.member_id, c.epoch, instance_id=c.instance_id,
                                owned=self._owned_all(c) if report_owned else None,
                                topics=c.topics if report_owned else None,
                                rebalance=REBALANCE if report_owned else -1)
        self._adopt(c, r)

    @rule(i=CLIENTS, permanent=st.booleans())
    def leave(self, i, permanent):
        c = self.clients[i]
        if c.epoch is None:
            return
        epoch = -2 if c.instance_id and not permanent else -1
        self.h.cg_heartbeat("g", c.member_id, epoch, instance_id=c.instance_id)
        c.epoch, c.owned = None, []
        if c.instance_id:
            # a static member comes back as a new incarnation with a new member id
            c.incarnation += 1
            c.member_id = f"m{i}-{c.incarnation}"

    @rule(i=CLIENTS, topics=st.sampled_from([["t"], ["t", "u"], ["u"]]))
    def resubscribe(self, i, topics):
        c = self.clients[i]
        c.topics = topics
        if c.epoch is not None:
            r = self.h.cg_heartbeat("g", c.member_id, c.epoch, topics=topics, instance_id=c.instance_id,
                                    owned=self._owned_all(c), rebalance=REBALANCE)
            self._adopt(c, r)

    @rule(i=CLIENTS, offset=st.integers(min_value=0, max_value=100))
    def commit(self, i, offset):
        c = self.clients[i]
        if c.epoch is None:
            return
        g = self._group()
        m = g.members.get(c.member_id) if g else None
        valid = m is not None and m.member_epoch == c.epoch
        r = self.h.commit("g", {("t", 0): offset}, generation=c.epoch, member_id=c.member_id, version=9)
        accepted = r.topics[0].partitions[0].error_code == E.NONE
        assert accepted == valid, (r, c.epoch, m)

    @rule(ms=SLEEPS)
    def sleep(self, ms):
        self.h.advance(ms)

    @rule(partitions=st.sampled_from([6, 8]), with_u=st.booleans())
    def change_metadata(self, partitions, with_u):
        topics = {"t": max(partitions, len(self.h.image.topic("t").partitions))}
        if with_u:
            topics["u"] = 2
        self.h.set_image(topics, offset=self.h.image.offset + 1)

    @rule()
    def restart(self):
        before = self._snapshot()
        self.h.restart()
        assert self._snapshot() == before

    def _snapshot(self):
        g = self._group()
        if g is None:
            return None
        return (g.group_epoch, g.assignment_epoch, g.metadata_hash, dict(g.target), dict(g.static_members),
                dict(g.owners), dict(g.regexes), dict(g.members))

    @invariant()
    def one_owner_per_partition(self):
        g = getattr(self, "h", None) and self._group()
        if g is None:
            return
        seen = {}
        for m in g.members.values():
            for tid, ps in list(m.assigned.items()) + list(m.pending_revocation.items()):
                for p in ps:
                    assert (tid, p) not in seen, f"{p} in {seen[(tid, p)]} and {m.member_id}"
                    seen[(tid, p)] = m.member_id
        assert seen == g.owners
        assert g.group_epoch >= g.assignment_epoch
        # clients in good standing own only what the coordinator gave them, never the same partition
        live = {}
        for c in self.clients:
            m = g.members.get(c.member_id)
            if c.epoch is None or m is None or m.member_epoch != c.epoch:
                continue
            server = set(m.assigned.get(topic_id("t"), ())) | set(m.pending_revocation.get(topic_id("t"), ()))
            assert set(c.owned) <= server, (c.member_id, c.owned, server)
            for p in c.owned:
                assert p not in live, f"partition {p} consumed by {live[p]} and {c.member_id}"
                live[p] = c.member_id


_settings = settings(max_examples=100, stateful_step_count=50, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])

TestClassicGroupStateMachine = ClassicMachine.TestCase
TestClassicGroupStateMachine.settings = _settings
TestConsumerGroupStateMachine = ConsumerMachine.TestCase
TestConsumerGroupStateMachine.settings = _settings

_long = settings(max_examples=2000, stateful_step_count=100, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
def test_classic_group_state_machine_long():
    run_state_machine_as_test(ClassicMachine, settings=_long)


@pytest.mark.slow
def test_consumer_group_state_machine_long():
    run_state_machine_as_test(ConsumerMachine, settings=_long)
