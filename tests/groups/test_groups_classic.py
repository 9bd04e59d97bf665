"""The classic group protocol: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, timeouts, static
membership, and the group states, driven through the shard with a fake runtime."""

from protocol.errors import ErrorCode
from pybroker.groups import records as rec
from pybroker.groups.classic import ClassicState

from group_harness import Harness, assignment, subscription

E = ErrorCode


def join_member(h: Harness, group: str = "g", **kw):
    """JoinGroup v9 with the MEMBER_ID_REQUIRED round trip; returns (token, member id)."""
    _, r = h.join(group, **kw)
    assert r.error_code == E.MEMBER_ID_REQUIRED
    token, _ = h.join(group, r.member_id, **kw)
    return token, r.member_id


def stable_group(h: Harness, n: int = 2, group: str = "g", **kw) -> list[str]:
    """n members, generation 1, Stable, leader assigns partition i to member i."""
    tokens = []
    ids = []
    for _ in range(n):
        t, m = join_member(h, group, **kw)
        tokens.append(t)
        ids.append(m)
    h.advance(h.config.get("group.initial.rebalance.delay.ms") + 1)
    responses = [h.responses[t] for t in tokens]
    assert all(r.error_code == E.NONE for r in responses)
    leader = responses[0].leader
    gen = responses[0].generation_id
    assigns = {m: assignment({"t": [i]}) for i, m in enumerate(ids)}
    for m in ids:
        if m != leader:
            h.sync(group, m, gen)
    _, r = h.sync(group, leader, gen, assigns)
    assert r.error_code == E.NONE
    assert h.shard.groups[group].state == ClassicState.STABLE
    return ids


def group_of(h, g="g"):
    return h.shard.groups[g]


# --- JoinGroup ---------------------------------------------------------------------------------

def test_member_id_required_round_trip(h):
    _, r = h.join("g")
    assert r.error_code == E.MEMBER_ID_REQUIRED and r.member_id.startswith("client-")
    assert r.generation_id == -1
    token, r2 = h.join("g", r.member_id)
    assert r2 is None  # parked until the join phase completes
    h.advance(1)
    resp = h.responses[token]
    assert resp.error_code == E.NONE and resp.generation_id == 1 and resp.member_id == r.member_id
    assert resp.leader == r.member_id and resp.protocol_name == "range" and resp.protocol_type == "consumer"
    assert [m.member_id for m in resp.members] == [r.member_id]
    assert group_of(h).state == ClassicState.COMPLETING_REBALANCE


def test_v3_join_needs_no_member_id_round_trip(h):
    token, r = h.join("g", version=3)
    assert r is None
    h.advance(1)
    assert h.responses[token].error_code == E.NONE and h.responses[token].generation_id == 1


def test_new_group_writes_an_empty_group_metadata_record(h):
    h.join("g")
    d = rec.decode(h.log[-1][0])
    assert d.type == rec.RecordType.GROUP_METADATA and d.value.generation == 0 and d.value.members == []


def test_pending_member_expires_after_session_timeout(h):
    _, r = h.join("g", session=5000)
    assert r.member_id in group_of(h).pending_join
    h.advance(5001)
    assert r.member_id not in group_of(h).pending_join
    _, r2 = h.join("g", r.member_id)
    assert r2.error_code == E.UNKNOWN_MEMBER_ID


def test_unknown_member_of_unknown_group(h):
    _, r = h.join("nope", "someone")
    assert r.error_code == E.UNKNOWN_MEMBER_ID


def test_invalid_session_timeout_and_group_id():
    h = Harness(overrides={"group.min.session.timeout.ms": 6000, "group.max.session.timeout.ms": 60000})
    assert h.join("g", session=5999)[1].error_code == E.INVALID_SESSION_TIMEOUT
    assert h.join("g", session=60001)[1].error_code == E.INVALID_SESSION_TIMEOUT
    assert h.join("", session=10000)[1].error_code == E.INVALID_GROUP_ID


def test_group_max_size():
    h = Harness(overrides={"group.max.size": 2})
    stable_group(h, 2)
    _, r = h.join("g", version=3)
    assert r.error_code == E.GROUP_MAX_SIZE_REACHED


def test_inconsistent_protocols(h):
    stable_group(h, 1)
    _, r = h.join("g", version=3, protocol_type="connect")
    assert r.error_code == E.INCONSISTENT_GROUP_PROTOCOL
    _, r = h.join("g", version=3, protocols=[("roundrobin", subscription(["t"]))])
    assert r.error_code == E.INCONSISTENT_GROUP_PROTOCOL
    _, r = h.join("other", version=3, protocols=[])
    assert r.error_code == E.INCONSISTENT_GROUP_PROTOCOL


def test_protocol_selection_prefers_the_most_voted_common_protocol(h):
    md = subscription(["t"])
    t1, _ = join_member(h, protocols=[("range", md), ("cooperative-sticky", md)])
    t2, _ = join_member(h, protocols=[("cooperative-sticky", md), ("range", md)])
    t3, _ = join_member(h, protocols=[("cooperative-sticky", md), ("roundrobin", md), ("range", md)])
    h.advance(1)
    assert {h.responses[t].protocol_name for t in (t1, t2, t3)} == {"cooperative-sticky"}


def test_initial_rebalance_delay_extends_while_members_join():
    h = Harness(overrides={"group.initial.rebalance.delay.ms": 3000})
    t1, _ = join_member(h, rebalance=10_000)
    start = h.now
    h.advance(1000)
    t2, _ = join_member(h, rebalance=10_000)
    h.advance(1999)  # 2999 ms after the first join
    assert t1 not in h.responses
    h.advance(1)  # the first delay ends, but a member joined meanwhile: wait another 3000
    assert t1 not in h.responses
    h.advance(2999)
    assert t1 not in h.responses
    h.advance(1)
    assert h.now - start == 6000
    assert h.responses[t1].generation_id == 1 and h.responses[t2].generation_id == 1
    assert h.responses[t1].leader == h.responses[t2].leader


def test_initial_delay_is_bounded_by_the_rebalance_timeout():
    h = Harness(overrides={"group.initial.rebalance.delay.ms": 3000})
    t1, _ = join_member(h, rebalance=4000)  # remaining after the first delay: 1000
    start = h.now
    for _ in range(3):
        h.advance(1000)
        join_member(h, rebalance=4000)
    h.advance(10_000)
    done = h.responses[t1]
    assert done.generation_id == 1
    assert h.timers.get(("classic-join", "g")) is None
    assert h.now - start >= 4000


def test_only_the_leader_gets_the_member_list(h):
    t1, m1 = join_member(h)
    t2, m2 = join_member(h)
    h.advance(1)
    r1, r2 = h.responses[t1], h.responses[t2]
    leader, follower = (r1, r2) if r1.leader == m1 else (r2, r1)
    assert {m.member_id for m in leader.members} == {m1, m2}
    assert follower.members == []
    assert all(m.metadata == subscription(["t"]) for m in leader.members)


def test_v6_protocol_name_is_never_null_in_error_responses(h):
    _, r = h.join("g", version=6)
    assert r.protocol_name == ""
    _, r = h.join("g", version=7)
    assert r.protocol_name is None


# --- SyncGroup ---------------------------------------------------------------------------------

def test_sync_distributes_the_leaders_assignment(h):
    t1, m1 = join_member(h)
    t2, m2 = join_member(h)
    h.advance(1)
    leader = h.responses[t1].leader
    follower = m2 if leader == m1 else m1
    ft, fr = h.sync("g", follower, 1)
    assert fr is None  # parked until the leader syncs
    lt, lr = h.sync("g", leader, 1, {leader: assignment({"t": [0, 1, 2]}), follower: assignment({"t": [3, 4, 5]})})
    assert lr.assignment == assignment({"t": [0, 1, 2]})
    assert h.responses[ft].assignment == assignment({"t": [3, 4, 5]})
    assert h.responses[ft].protocol_name == "range" and h.responses[ft].protocol_type == "consumer"
    assert group_of(h).state == ClassicState.STABLE
    d = rec.decode(h.log[-1][0])
    assert d.type == rec.RecordType.GROUP_METADATA and d.value.generation == 1 and d.value.leader == leader
    assert {m.member_id: m.assignment for m in d.value.members} == {
        leader: assignment({"t": [0, 1, 2]}), follower: assignment({"t": [3, 4, 5]})}
    # A late SyncGroup in Stable gets the same assignment again.
    assert h.sync("g", follower, 1)[1].assignment == assignment({"t": [3, 4, 5]})


def test_member_missing_from_leader_assignment_gets_an_empty_one(h):
    t1, m1 = join_member(h)
    t2, m2 = join_member(h)
    h.advance(1)
    leader = h.responses[t1].leader
    follower = m2 if leader == m1 else m1
    h.sync("g", leader, 1, {leader: assignment({"t": [0]})})
    assert h.sync("g", follower, 1)[1].assignment == b""


def test_sync_errors(h):
    ids = stable_group(h, 1)
    assert h.sync("g", ids[0], 7)[1].error_code == E.ILLEGAL_GENERATION
    assert h.sync("g", "who", 1)[1].error_code == E.UNKNOWN_MEMBER_ID
    assert h.sync("nope", ids[0], 1)[1].error_code == E.UNKNOWN_MEMBER_ID
    assert h.sync("g", ids[0], 1, protocol_name="roundrobin")[1].error_code == E.INCONSISTENT_GROUP_PROTOCOL
    assert h.sync("g", ids[0], 1, protocol_type="connect")[1].error_code == E.INCONSISTENT_GROUP_PROTOCOL
    assert h.sync("g", ids[0], 1, protocol_type="consumer", protocol_name="range")[1].error_code == E.NONE
    # v4 does not send the protocol: no check
    assert h.sync("g", ids[0], 1, version=4, protocol_name="roundrobin")[1].error_code == E.NONE
    assert h.sync("", ids[0], 1)[1].error_code == E.INVALID_GROUP_ID


def test_sync_during_rebalance_is_told_to_rejoin(h):
    ids = stable_group(h, 2)
    join_member(h)  # a third member triggers a rebalance
    assert group_of(h).state == ClassicState.PREPARING_REBALANCE
    assert h.sync("g", ids[0], 1)[1].error_code == E.REBALANCE_IN_PROGRESS


def test_rebalance_during_completing_rebalance_tells_waiting_members_to_rejoin(h):
    t1, m1 = join_member(h)
    t2, m2 = join_member(h)
    h.advance(1)
    leader = h.responses[t1].leader
    follower = m2 if leader == m1 else m1
    ft, _ = h.sync("g", follower, 1)
    join_member(h)  # a new member: the group goes back to PreparingRebalance
    assert h.responses[ft].error_code == E.REBALANCE_IN_PROGRESS


# --- Heartbeat ---------------------------------------------------------------------------------

def test_heartbeat_errors_and_rebalance_notice(h):
    ids = stable_group(h, 2)
    assert h.heartbeat("g", ids[0], 1).error_code == E.NONE
    assert h.heartbeat("g", ids[0], 0).error_code == E.ILLEGAL_GENERATION
    assert h.heartbeat("g", "who", 1).error_code == E.UNKNOWN_MEMBER_ID
    assert h.heartbeat("nope", ids[0], 1).error_code == E.UNKNOWN_MEMBER_ID
    assert h.heartbeat("", ids[0], 1).error_code == E.INVALID_GROUP_ID
    join_member(h)
    assert h.heartbeat("g", ids[0], 1).error_code == E.REBALANCE_IN_PROGRESS


def test_heartbeats_keep_a_member_alive(h):
    ids = stable_group(h, 2, session=10_000)
    for _ in range(10):
        h.advance(5000)
        for m in ids:
            assert h.heartbeat("g", m, 1).error_code == E.NONE
    assert group_of(h).state == ClassicState.STABLE and len(group_of(h).members) == 2


def test_session_timeout_removes_a_member_and_rebalances(h):
    a, b = stable_group(h, 2, session=10_000)
    for _ in range(3):
        h.advance(4000)
        h.heartbeat("g", a, 1)
    # b stopped heartbeating: it is gone and the group rebalances without it
    assert b not in group_of(h).members
    assert group_of(h).state == ClassicState.PREPARING_REBALANCE
    assert h.heartbeat("g", a, 1).error_code == E.REBALANCE_IN_PROGRESS
    token, _ = h.join("g", a)
    resp = h.responses[token]
    assert resp.generation_id == 2 and [m.member_id for m in resp.members] == [a]


def test_rebalance_timeout_removes_members_that_do_not_rejoin(h):
    a, b = stable_group(h, 2, session=60_000, rebalance=20_000)
    ta, _ = h.join("g", a, session=60_000, rebalance=20_000)  # the leader rejoins: a rebalance
    assert group_of(h).state == ClassicState.PREPARING_REBALANCE
    h.advance(10_000)
    h.heartbeat("g", b, 1)  # b is alive but does not rejoin
    assert ta not in h.responses
    h.advance(10_001)
    assert h.responses[ta].generation_id == 2 and [m.member_id for m in h.responses[ta].members] == [a]
    assert b not in group_of(h).members


def test_pending_sync_expiry_removes_members_that_do_not_sync(h):
    t1, m1 = join_member(h, rebalance=20_000, session=60_000)
    t2, m2 = join_member(h, rebalance=20_000, session=60_000)
    h.advance(1)
    leader = h.responses[t1].leader
    follower = m2 if leader == m1 else m1
    h.sync("g", leader, 1, {leader: b"a", follower: b"b"})
    h.advance(20_001)  # follower never synced
    assert follower not in group_of(h).members
    assert group_of(h).state == ClassicState.PREPARING_REBALANCE
    assert h.heartbeat("g", leader, 1).error_code == E.REBALANCE_IN_PROGRESS


def test_all_members_timing_out_empties_the_group(h):
    stable_group(h, 2, session=10_000)
    h.advance(10_001)
    g = group_of(h)
    assert g.state == ClassicState.EMPTY and not g.members and g.generation_id == 2
    d = rec.decode(h.log[-1][0])
    assert d.type == rec.RecordType.GROUP_METADATA and d.value.members == [] and d.value.generation == 2


# --- LeaveGroup --------------------------------------------------------------------------------

def test_leave_v0_and_rebalance(h):
    a, b = stable_group(h, 2)
    r = h.leave("g", [(b, None)], version=0)
    assert r.error_code == E.NONE
    assert b not in group_of(h).members and group_of(h).state == ClassicState.PREPARING_REBALANCE
    assert h.leave("g", [("who", None)], version=1).error_code == E.UNKNOWN_MEMBER_ID


def test_leave_batched_with_per_member_errors(h):
    a, b = stable_group(h, 2)
    r = h.leave("g", [(a, None), ("ghost", None), (b, "not-static")])
    assert r.error_code == E.NONE
    assert [(m.member_id, m.error_code) for m in r.members] == [
        (a, E.NONE), ("ghost", E.UNKNOWN_MEMBER_ID), (b, E.UNKNOWN_MEMBER_ID)]
    assert h.leave("nope", [(a, None)]).error_code == E.UNKNOWN_MEMBER_ID


def test_last_member_leaving_empties_the_group(h):
    (a,) = stable_group(h, 1)
    h.leave("g", [(a, None)])
    g = group_of(h)
    assert g.state == ClassicState.EMPTY and g.generation_id == 2


def test_leave_wakes_a_parked_new_member(h):
    ids = stable_group(h, 1)
    t, m = join_member(h)  # parked until the others rejoin
    r = h.leave("g", [(m, None)])
    assert r.members[0].error_code == E.NONE
    assert h.responses[t].error_code == E.UNKNOWN_MEMBER_ID
    assert ids[0] in group_of(h).members


def test_admin_removal_by_instance_id(h):
    ta, _ = static_join(h, "i-a")
    h.advance(1)
    a = h.responses[ta].member_id
    r = h.leave("g", [("", "i-a")])
    assert r.members[0].error_code == E.NONE and a not in group_of(h).members
    assert h.leave("g", [("", "i-zzz")]).members[0].error_code == E.UNKNOWN_MEMBER_ID


# --- static membership -------------------------------------------------------------------------

def static_join(h, instance, member_id="", **kw):
    return h.join("g", member_id, instance_id=instance, **kw)


def test_static_member_restart_within_session_does_not_rebalance(h):
    ta, _ = static_join(h, "i-a")
    tb, _ = static_join(h, "i-b")
    h.advance(1)
    old_a = h.responses[ta].member_id
    b = h.responses[tb].member_id
    leader = h.responses[ta].leader
    h.sync("g", b if leader == old_a else old_a, 1)
    h.sync("g", leader, 1, {old_a: b"A", b: b"B"})
    g = group_of(h)
    assert g.state == ClassicState.STABLE
    # i-a restarts: it joins with no member id and the same instance id
    t, r = static_join(h, "i-a")
    assert r.error_code == E.NONE and r.generation_id == 1 and r.member_id != old_a
    assert g.state == ClassicState.STABLE and g.generation_id == 1
    assert r.member_id.startswith("i-a-")
    assert h.sync("g", r.member_id, 1)[1].assignment == b"A"  # its assignment carries over
    # the previous incarnation is fenced
    assert h.heartbeat("g", old_a, 1, instance_id="i-a").error_code == E.FENCED_INSTANCE_ID
    assert h.commit("g", {("t", 0): 5}, generation=1, member_id=old_a, instance_id="i-a",
                    version=8).topics[0].partitions[0].error_code == E.FENCED_INSTANCE_ID
    d = rec.decode(h.log[-1][0])
    assert d.type == rec.RecordType.GROUP_METADATA
    assert {m.member_id for m in d.value.members} == {r.member_id, b}
    assert h.heartbeat("g", b, 1).error_code == E.NONE


def test_static_leader_restart_v9_skips_assignment_and_v8_sees_old_leader(h):
    ta, _ = static_join(h, "i-a")
    h.advance(1)
    old = h.responses[ta].member_id
    h.sync("g", old, 1, {old: b"A"})
    t, r = static_join(h, "i-a", version=9)
    assert r.leader == r.member_id and r.skip_assignment and [m.member_id for m in r.members] == [r.member_id]
    t, r2 = static_join(h, "i-a", version=8)
    assert r2.leader == r.member_id and r2.member_id != r.member_id and not r2.skip_assignment


def test_static_rejoin_with_other_protocols_rebalances(h):
    md = subscription(["t"])
    ta, _ = static_join(h, "i-a", protocols=[("range", md)])
    tb, _ = static_join(h, "i-b", protocols=[("roundrobin", md), ("range", md)])
    h.advance(1)
    a, b = h.responses[ta].member_id, h.responses[tb].member_id
    assert h.responses[ta].protocol_name == "range"
    leader = h.responses[ta].leader
    h.sync("g", b if leader == a else a, 1)
    h.sync("g", leader, 1, {a: b"A", b: b"B"})
    # the same protocols in another order: the selection does not change, no rebalance
    t, r = static_join(h, "i-a", protocols=[("range", md)])
    assert r.error_code == E.NONE and group_of(h).state == ClassicState.STABLE
    # now both prefer roundrobin: the selected protocol would change, so the group rebalances
    t, r = static_join(h, "i-a", protocols=[("roundrobin", md), ("range", md)])
    assert r is None and group_of(h).state == ClassicState.PREPARING_REBALANCE


def test_static_member_rejoin_parked_old_join_is_fenced(h):
    ta, _ = static_join(h, "i-a")
    tb, _ = static_join(h, "i-b")
    h.advance(1)
    a, b = h.responses[ta].member_id, h.responses[tb].member_id
    leader = h.responses[ta].leader
    h.sync("g", b if leader == a else a, 1)
    h.sync("g", leader, 1, {a: b"A", b: b"B"})
    t_old, _ = h.join("g", a, instance_id="i-a", protocols=[("range", subscription(["t", "u"]))])
    assert t_old not in h.responses  # a parked rejoin with new metadata
    t_new, r = static_join(h, "i-a")  # another incarnation takes the instance id
    assert h.responses[t_old].error_code == E.FENCED_INSTANCE_ID


def test_static_member_keeps_its_id_across_rebalances_when_not_rejoining(h):
    ta, _ = static_join(h, "i-a", session=60_000, rebalance=10_000)
    tb, _ = join_member(h, session=60_000, rebalance=10_000)
    h.advance(1)
    a = h.responses[ta].member_id
    b = tb and h.responses[tb].member_id
    leader = h.responses[ta].leader
    h.sync("g", b if leader == a else a, 1)
    h.sync("g", leader, 1, {a: b"A", b: b"B"})
    tb2, _ = h.join("g", b, session=60_000, rebalance=10_000, protocols=[("range", subscription(["t", "x"]))])
    h.advance(10_001)  # the static member did not rejoin: it stays (only dynamic members are dropped)
    assert a in group_of(h).members and h.responses[tb2].generation_id == 2


# --- describe, list, delete --------------------------------------------------------------------

def describe(h, group, version=5):
    return h.call("describe_groups", group, version)[1]


def test_describe_stable_group_shows_members_metadata_and_assignment(h):
    a, b = stable_group(h, 2, client_id="my-client")
    d = describe(h, "g")
    assert d.error_code == E.NONE and d.group_state == "Stable" and d.protocol_type == "consumer"
    assert d.protocol_data == "range"
    by_id = {m.member_id: m for m in d.members}
    assert by_id[a].client_id == "my-client" and by_id[a].client_host == "/127.0.0.1"
    assert by_id[a].member_metadata == subscription(["t"])
    assert by_id[a].member_assignment == assignment({"t": [0]})
    assert by_id[b].member_assignment == assignment({"t": [1]})


def test_describe_rebalancing_group_hides_metadata(h):
    stable_group(h, 2)
    join_member(h)
    d = describe(h, "g")
    assert d.group_state == "PreparingRebalance" and d.protocol_data == ""
    assert all(m.member_metadata == b"" and m.member_assignment == b"" for m in d.members)


def test_describe_unknown_group(h):
    d = describe(h, "nope", version=5)
    assert d.error_code == E.NONE and d.group_state == "Dead" and d.members == []
    d = describe(h, "nope", version=6)
    assert d.error_code == E.GROUP_ID_NOT_FOUND and d.error_message


def test_list_groups_with_filters(h):
    stable_group(h, 1, group="a")
    join_member(h, group="b")
    h.commit("simple", {("t", 0): 1})
    h.cg_heartbeat("c", "m1", 0, topics=["t"], rebalance=1000, owned=[])

    def listed(version=5, states=(), types=()):
        from protocol.messages import ListGroupsRequest
        r = h.call("list_groups", ListGroupsRequest(states_filter=list(states), types_filter=list(types)),
                   version)[1]
        return {(g.group_id, g.group_state, g.group_type, g.protocol_type) for g in r}

    assert listed() == {("a", "Stable", "classic", "consumer"), ("b", "PreparingRebalance", "classic", "consumer"),
                        ("simple", "Empty", "classic", ""), ("c", "Stable", "consumer", "consumer")}
    assert {g for g, *_ in listed(states=["stable"])} == {"a", "c"}
    assert {g for g, *_ in listed(states=["PreparingRebalance", "EMPTY"])} == {"b", "simple"}
    assert {g for g, *_ in listed(types=["Consumer"])} == {"c"}
    assert {g for g, *_ in listed(types=["classic"], states=["stable"])} == {"a"}
    assert listed(types=["bogus"]) == set()
    assert {g for g, *_ in listed(version=3, states=["stable"])} == {"a", "b", "simple", "c"}


def delete(h, group, version=2):
    return h.call("delete_groups", group, version)[1]


def test_delete_groups(h):
    stable_group(h, 1, group="busy")
    h.commit("idle", {("t", 0): 7})
    assert delete(h, "busy").error_code == E.NON_EMPTY_GROUP
    assert delete(h, "nope").error_code == E.GROUP_ID_NOT_FOUND
    assert delete(h, "idle").error_code == E.NONE
    assert "idle" not in h.shard.groups
    assert h.committed("idle") == -1
    tail = [rec.decode(r) for r, _, _ in h.log[-2:]]
    assert tail[0].type == rec.RecordType.OFFSET_COMMIT and tail[0].value is None
    assert tail[1].type == rec.RecordType.GROUP_METADATA and tail[1].value is None
    h.restart()
    assert "idle" not in h.shard.groups and h.committed("idle") == -1
    assert "busy" in h.shard.groups


# --- cooperative rebalancing -------------------------------------------------------------------

def test_cooperative_incremental_rebalance_relays_owned_partitions(h):
    """The cooperative-sticky protocol needs nothing special from the coordinator: owned
    partitions travel in subscriptions, revocation is a second rebalance the leader triggers."""
    def sub(owned):
        from protocol import messages as M
        from protocol.compiler import codec_for
        from protocol.messages import data_spec
        S = M.ConsumerProtocolSubscription
        obj = S(topics=["t"], user_data=None, owned_partitions=[S.TopicPartition(topic="t", partitions=owned)],
                generation_id=-1, rack_id=None)
        return (1).to_bytes(2, "big") + codec_for(data_spec("ConsumerProtocolSubscription"), 1).encode(obj)

    ta, a = join_member(h, protocols=[("cooperative-sticky", sub([]))])
    h.advance(1)
    h.sync("g", a, 1, {a: assignment({"t": [0, 1, 2, 3, 4, 5]})})
    # b joins; a rejoins (heartbeat says REBALANCE_IN_PROGRESS) reporting what it owns
    tb, b = join_member(h, protocols=[("cooperative-sticky", sub([]))])
    assert h.heartbeat("g", a, 1).error_code == E.REBALANCE_IN_PROGRESS
    ta2, _ = h.join("g", a, protocols=[("cooperative-sticky", sub([0, 1, 2, 3, 4, 5]))])
    ra, rb = h.responses[ta2], h.responses[tb]
    assert ra.generation_id == rb.generation_id == 2 and ra.leader == a
    assert {m.member_id: m.metadata for m in ra.members}[a] == sub([0, 1, 2, 3, 4, 5])
    # first phase: a keeps 0-2 and gives up 3-5, b gets nothing yet
    h.sync("g", b, 2)
    h.sync("g", a, 2, {a: assignment({"t": [0, 1, 2]}), b: assignment({})})
    # a revoked 3-5 and rejoins: second phase hands them to b while a keeps consuming 0-2
    ta3, _ = h.join("g", a, protocols=[("cooperative-sticky", sub([0, 1, 2]))])
    assert group_of(h).state == ClassicState.PREPARING_REBALANCE
    tb3, _ = h.join("g", b, protocols=[("cooperative-sticky", sub([]))])
    assert h.responses[ta3].generation_id == 3
    h.sync("g", b, 3)
    h.sync("g", a, 3, {a: assignment({"t": [0, 1, 2]}), b: assignment({"t": [3, 4, 5]})})
    assert describe(h, "g").group_state == "Stable"


# --- persistence ---------------------------------------------------------------------------------

def test_restart_restores_a_stable_group(h):
    a, b = stable_group(h, 2, session=10_000)
    h.commit("g", {("t", 0): 42}, generation=1, member_id=a, version=8)
    before = group_of(h)
    snapshot = (before.generation_id, before.protocol_type, before.protocol_name, before.leader_id,
                {m: (x.assignment, x.session_timeout_ms, x.rebalance_timeout_ms, x.client_id)
                 for m, x in before.members.items()})
    h.restart()
    after = group_of(h)
    assert after.state == ClassicState.STABLE
    assert (after.generation_id, after.protocol_type, after.protocol_name, after.leader_id,
            {m: (x.assignment, x.session_timeout_ms, x.rebalance_timeout_ms, x.client_id)
             for m, x in after.members.items()}) == snapshot
    assert h.committed("g") == 42
    # members carry on with their generation; heartbeat timers were armed on load
    assert h.heartbeat("g", a, 1).error_code == E.NONE
    assert ("classic-heartbeat", "g", b) in h.timers
    h.advance(10_001)  # b never came back after the restart
    assert b not in group_of(h).members


def test_restart_of_an_empty_group(h):
    (a,) = stable_group(h, 1)
    h.leave("g", [(a, None)])
    h.restart()
    g = group_of(h)
    assert g.state == ClassicState.EMPTY and g.generation_id == 2 and g.protocol_type == "consumer"
