"""KIP-848 consumer groups: ConsumerGroupHeartbeat, reconciliation, timeouts, static members,
assignors, regex subscriptions, metadata changes, ConsumerGroupDescribe, persistence."""

import pytest

from protocol.errors import ErrorCode
from pybroker.groups import records as rec
from pybroker.groups.consumer import ConsumerGroupState, MemberState

from group_harness import Harness, topic_id

E = ErrorCode
T = topic_id("t")


def parts(resp, topic="t"):
    if resp.assignment is None:
        return None
    out = []
    for tp in resp.assignment.topic_partitions:
        if tp.topic_id == topic_id(topic):
            out.extend(tp.partitions)
    return sorted(out)


def join(h, member, topics=("t",), **kw):
    return h.cg_heartbeat("g", member, 0, topics=list(topics), rebalance=kw.pop("rebalance", 30_000),
                          owned=[], **kw)


def group(h, g="g"):
    return h.shard.groups[g]


def assigned(h, member, topic="t"):
    return sorted(group(h).members[member].assigned.get(topic_id(topic), ()))


def owners(h, g="g"):
    """(topic id, partition) -> member, asserting no partition is in two current assignments."""
    seen = {}
    for m in group(h, g).members.values():
        for tid, ps in list(m.assigned.items()) + list(m.pending_revocation.items()):
            for p in ps:
                assert (tid, p) not in seen, f"{tid}-{p} owned by {seen[(tid, p)]} and {m.member_id}"
                seen[(tid, p)] = m.member_id
    return seen


def settle(h, members: dict[str, list[int]], rounds: int = 5) -> dict[str, list[int]]:
    """Heartbeat every member as a well-behaved client until nothing changes: each reports what
    it owns (its last assignment) and adopts the assignment it gets."""
    epochs = {m: group(h).members[m].member_epoch for m in members}
    for _ in range(rounds):
        for m in list(members):
            r = h.cg_heartbeat("g", m, epochs[m], owned=[("t", members[m])])
            assert r.error_code == E.NONE, r
            epochs[m] = r.member_epoch
            if r.assignment is not None:
                members[m] = parts(r)
            owners(h)
    return members


# --- joining ---------------------------------------------------------------------------------

def test_first_member_gets_everything(h):
    r = join(h, "m1")
    assert r.error_code == E.NONE and r.member_id == "m1" and r.member_epoch == 1
    assert r.heartbeat_interval_ms == 5000 and parts(r) == [0, 1, 2, 3, 4, 5]
    g = group(h)
    assert g.group_epoch == 1 and g.assignment_epoch == 1 and g.state() == ConsumerGroupState.STABLE


def test_v0_member_id_is_generated_by_the_server(h):
    r = h.cg_heartbeat("g", "", 0, topics=["t"], rebalance=1000, owned=[], version=0)
    assert r.error_code == E.NONE and len(r.member_id) == 22  # Kafka's base64 Uuid
    r2 = h.cg_heartbeat("g", "", 0, topics=["t"], rebalance=1000, owned=[], version=1)
    assert r2.error_code == E.INVALID_REQUEST


@pytest.mark.parametrize("kw, message", [
    (dict(member_id="m", epoch=0, topics=["t"], owned=[]), "RebalanceTimeoutMs"),
    (dict(member_id="m", epoch=0, rebalance=1, topics=["t"], owned=None), "TopicPartitions"),
    (dict(member_id="m", epoch=0, rebalance=1, topics=["t"], owned=[("t", [0])]), "TopicPartitions"),
    (dict(member_id="m", epoch=0, rebalance=1, owned=[]), "SubscribedTopicNames"),
    (dict(member_id="m", epoch=-2), "InstanceId"),
    (dict(member_id="m", epoch=-3), "MemberEpoch"),
    (dict(member_id=" ", epoch=1), "MemberId"),
    (dict(member_id="m", epoch=0, rebalance=1, topics=["t"], owned=[], instance_id=""), "InstanceId"),
    (dict(member_id="m", epoch=0, rebalance=1, topics=["t"], owned=[], rack=""), "RackId"),
])
def test_invalid_requests(h, kw, message):
    member_id = kw.pop("member_id")
    epoch = kw.pop("epoch")
    r = h.cg_heartbeat("g", member_id, epoch, **kw)
    assert r.error_code == E.INVALID_REQUEST and message in r.error_message


def test_unsupported_assignor(h):
    r = join(h, "m1", assignor="sticky")
    assert r.error_code == E.UNSUPPORTED_ASSIGNOR


def test_group_max_size():
    h = Harness(overrides={"group.consumer.max.size": 1})
    join(h, "m1")
    assert join(h, "m2").error_code == E.GROUP_MAX_SIZE_REACHED
    assert h.cg_heartbeat("g", "m1", 1).error_code == E.NONE


def test_unknown_group_and_member(h):
    assert h.cg_heartbeat("nope", "m1", 3).error_code == E.GROUP_ID_NOT_FOUND
    join(h, "m1")
    assert h.cg_heartbeat("g", "m9", 1).error_code == E.UNKNOWN_MEMBER_ID


# --- reconciliation --------------------------------------------------------------------------

def test_second_member_waits_for_revocation(h):
    join(h, "m1")
    r2 = join(h, "m2")
    assert r2.member_epoch == 2 and parts(r2) == []  # m1 still owns everything
    assert group(h).members["m2"].state == MemberState.UNRELEASED_PARTITIONS
    r1 = h.cg_heartbeat("g", "m1", 1, owned=[("t", [0, 1, 2, 3, 4, 5])])
    assert r1.member_epoch == 1 and len(parts(r1)) == 3  # revoke first, at the same epoch
    assert group(h).members["m1"].state == MemberState.UNREVOKED_PARTITIONS
    kept = parts(r1)
    # m2 still cannot get them: m1 has not acknowledged the revocation
    assert parts(h.cg_heartbeat("g", "m2", 2, owned=[])) in (None, [])
    r1 = h.cg_heartbeat("g", "m1", 1, owned=[("t", kept)])
    assert r1.member_epoch == 2
    r2 = h.cg_heartbeat("g", "m2", 2, owned=[])
    assert sorted(parts(r2) + kept) == [0, 1, 2, 3, 4, 5]
    assert group(h).state() == ConsumerGroupState.STABLE
    owners(h)


def test_heartbeat_without_owned_partitions_does_not_complete_revocation(h):
    join(h, "m1")
    join(h, "m2")
    h.cg_heartbeat("g", "m1", 1, owned=[("t", [0, 1, 2, 3, 4, 5])])
    r = h.cg_heartbeat("g", "m1", 1)  # owned partitions unknown (not sent)
    assert r.member_epoch == 1 and group(h).members["m1"].state == MemberState.UNREVOKED_PARTITIONS


def test_three_members_share_six_partitions(h):
    members = {"m1": parts(join(h, "m1"))}
    members["m2"] = parts(join(h, "m2"))
    members["m3"] = parts(join(h, "m3"))
    settle(h, members)
    assert sorted(len(p) for p in members.values()) == [2, 2, 2]
    assert sorted(sum(members.values(), [])) == list(range(6))
    assert group(h).state() == ConsumerGroupState.STABLE


def test_leave_moves_partitions(h):
    members = {"m1": parts(join(h, "m1")), "m2": parts(join(h, "m2"))}
    settle(h, members)
    r = h.cg_heartbeat("g", "m2", group(h).members["m2"].member_epoch)
    r = h.cg_heartbeat("g", "m2", -1)
    assert r.error_code == E.NONE and r.member_epoch == -1
    assert "m2" not in group(h).members
    r1 = h.cg_heartbeat("g", "m1", group(h).members["m1"].member_epoch, owned=[("t", members["m1"])])
    assert parts(r1) == [0, 1, 2, 3, 4, 5]
    assert h.cg_heartbeat("g", "m2", -1).error_code == E.UNKNOWN_MEMBER_ID


def test_fenced_member_epoch_and_previous_epoch(h):
    join(h, "m1")
    assert h.cg_heartbeat("g", "m1", 5).error_code == E.FENCED_MEMBER_EPOCH
    join(h, "m2")
    r1 = h.cg_heartbeat("g", "m1", 1, owned=[("t", list(range(6)))])
    kept = parts(r1)
    r1 = h.cg_heartbeat("g", "m1", 1, owned=[("t", kept)])
    assert r1.member_epoch == 2
    # the response with epoch 2 was lost: epoch 1 with a subset of the assignment is accepted
    r = h.cg_heartbeat("g", "m1", 1, owned=[("t", kept)])
    assert r.error_code == E.NONE and r.member_epoch == 2
    # but not while still owning partitions it no longer has
    assert h.cg_heartbeat("g", "m1", 1, owned=[("t", list(range(6)))]).error_code == E.FENCED_MEMBER_EPOCH
    assert h.cg_heartbeat("g", "m1", 0, topics=["t"], rebalance=30_000, owned=[]).error_code == E.NONE


# --- timeouts --------------------------------------------------------------------------------

def test_session_timeout_fences_and_moves_partitions(h):
    members = {"m1": parts(join(h, "m1")), "m2": parts(join(h, "m2"))}
    settle(h, members)
    epoch = group(h).group_epoch
    for _ in range(10):
        h.advance(10_000)
        h.cg_heartbeat("g", "m1", group(h).members["m1"].member_epoch, owned=[("t", members["m1"])])
    assert "m2" not in group(h).members and group(h).group_epoch > epoch
    assert assigned(h, "m1") == list(range(6))
    assert h.cg_heartbeat("g", "m2", 3).error_code == E.UNKNOWN_MEMBER_ID


def test_session_timeout_is_a_group_config():
    from pybroker.metadata.image import ConfigResource, ConfigResourceType
    import dataclasses
    from types import MappingProxyType

    h = Harness()
    h.image = dataclasses.replace(h.image, configs=MappingProxyType({
        ConfigResource(ConfigResourceType.GROUP, "g"): {"consumer.session.timeout.ms": "50000",
                                                         "consumer.heartbeat.interval.ms": "7000"}}))
    r = join(h, "m1")
    assert r.heartbeat_interval_ms == 7000
    assert h.timers[("consumer-session", "g", "m1")] == h.now + 50_000


def test_rebalance_timeout_fences_a_member_that_does_not_revoke(h):
    join(h, "m1", rebalance=20_000)
    join(h, "m2")
    h.cg_heartbeat("g", "m1", 1, owned=[("t", list(range(6)))])  # asked to revoke
    assert group(h).members["m1"].state == MemberState.UNREVOKED_PARTITIONS
    for _ in range(4):
        h.advance(5_001)
        h.cg_heartbeat("g", "m2", group(h).members["m2"].member_epoch, owned=[])
        if "m1" in group(h).members:
            h.cg_heartbeat("g", "m1", 1, owned=[("t", list(range(6)))])  # still holding on
    assert "m1" not in group(h).members
    h.cg_heartbeat("g", "m2", group(h).members["m2"].member_epoch, owned=[])
    assert assigned(h, "m2") == list(range(6))


def test_revocation_in_time_cancels_the_rebalance_timer(h):
    join(h, "m1", rebalance=20_000)
    join(h, "m2")
    r = h.cg_heartbeat("g", "m1", 1, owned=[("t", list(range(6)))])
    assert ("consumer-rebalance", "g", "m1") in h.timers
    h.cg_heartbeat("g", "m1", 1, owned=[("t", parts(r))])
    assert ("consumer-rebalance", "g", "m1") not in h.timers


# --- static members ------------------------------------------------------------------------------

def test_static_member_restart_keeps_its_assignment_without_rebalance(h):
    r1 = join(h, "a1", instance_id="i-a")
    members = {"a1": parts(r1), "b": parts(join(h, "b"))}
    settle(h, members)
    epoch = group(h).group_epoch
    r = h.cg_heartbeat("g", "a1", group(h).members["a1"].member_epoch, instance_id="i-a")
    r = h.cg_heartbeat("g", "a1", -2, instance_id="i-a")
    assert r.error_code == E.NONE and r.member_epoch == -2
    assert group(h).members["a1"].member_epoch == -2
    # the new incarnation (new member id) comes back before its session ends
    r = h.cg_heartbeat("g", "a2", 0, topics=["t"], rebalance=30_000, owned=[], instance_id="i-a")
    assert r.error_code == E.NONE and parts(r) == members["a1"]
    assert group(h).group_epoch == epoch and "a1" not in group(h).members
    assert r.member_epoch == epoch
    # the old id is fenced
    assert h.cg_heartbeat("g", "a1", epoch, instance_id="i-a").error_code == E.FENCED_INSTANCE_ID
    owners(h)


def test_unreleased_instance_id(h):
    join(h, "a1", instance_id="i-a")
    r = h.cg_heartbeat("g", "a2", 0, topics=["t"], rebalance=30_000, owned=[], instance_id="i-a")
    assert r.error_code == E.UNRELEASED_INSTANCE_ID
    assert h.cg_heartbeat("g", "a9", 1, instance_id="i-z").error_code == E.UNKNOWN_MEMBER_ID


def test_static_member_that_does_not_return_is_fenced_after_its_session(h):
    join(h, "a1", instance_id="i-a")
    join(h, "b")
    h.cg_heartbeat("g", "a1", -2, instance_id="i-a")
    for _ in range(10):
        h.advance(10_000)
        h.cg_heartbeat("g", "b", group(h).members["b"].member_epoch, owned=[])
    assert "a1" not in group(h).members and "i-a" not in group(h).static_members


def test_static_member_leaving_for_good(h):
    join(h, "a1", instance_id="i-a")
    r = h.cg_heartbeat("g", "a1", -1, instance_id="i-a")
    assert r.error_code == E.NONE and "a1" not in group(h).members


# --- assignors -------------------------------------------------------------------------------

def test_range_assignor_by_request():
    h = Harness(topics={"t": 4, "u": 4})
    join(h, "m1", topics=("t", "u"), assignor="range")
    join(h, "m2", topics=("t", "u"), assignor="range")
    g = group(h)
    assert g.preferred_assignor() == "range"
    tgt = {m: {tid: sorted(p) for tid, p in a.items()} for m, a in g.target.items()}
    # co-partitioned: the same partition numbers of both topics go to the same member
    for a in tgt.values():
        assert a[topic_id("t")] == a[topic_id("u")]


def test_default_assignor_is_the_first_configured():
    h = Harness(overrides={"group.consumer.assignors": "range,uniform"})
    join(h, "m1")
    d = h.call("consumer_group_describe", "g", 0)[1]
    assert d.assignor_name == "range"


def test_heterogeneous_subscriptions():
    h = Harness(topics={"t": 4, "u": 2})
    join(h, "m1", topics=("t",))
    join(h, "m2", topics=("t", "u"))
    tgt = group(h).target
    assert topic_id("u") not in tgt["m1"]
    assert len(tgt["m2"].get(topic_id("u"), ())) == 2


# --- subscriptions and metadata --------------------------------------------------------------

def test_regex_subscription_and_new_matching_topic():
    h = Harness(topics={"orders-1": 2, "other": 2})
    r = h.cg_heartbeat("g", "m1", 0, regex="orders-.*", rebalance=30_000, owned=[])
    assert r.error_code == E.NONE
    assert [tp.topic_id for tp in r.assignment.topic_partitions] == [topic_id("orders-1")]
    assert group(h).regexes["orders-.*"].topics == {"orders-1"}
    epoch = group(h).group_epoch
    h.set_image({"orders-1": 2, "orders-2": 3, "other": 2})
    assert group(h).group_epoch == epoch + 1
    assert group(h).regexes["orders-.*"].topics == {"orders-1", "orders-2"}
    r = h.cg_heartbeat("g", "m1", r.member_epoch, owned=[("orders-1", [0, 1])])
    got = {tp.topic_id: sorted(tp.partitions) for tp in r.assignment.topic_partitions}
    assert got == {topic_id("orders-1"): [0, 1], topic_id("orders-2"): [0, 1, 2]}
    h.restart()
    assert group(h).regexes["orders-.*"].topics == {"orders-1", "orders-2"}


def test_invalid_regex(h):
    r = h.cg_heartbeat("g", "m1", 0, regex="(unclosed", rebalance=30_000, owned=[])
    assert r.error_code == E.INVALID_REGULAR_EXPRESSION


def test_regex_tombstone_when_last_subscriber_leaves():
    h = Harness(topics={"orders-1": 2})
    h.cg_heartbeat("g", "m1", 0, regex="orders-.*", rebalance=30_000, owned=[])
    h.cg_heartbeat("g", "m1", -1)
    assert group(h).regexes == {}


def test_partitions_added_to_a_subscribed_topic(h):
    r = join(h, "m1")
    h.set_image({"t": 8})
    assert group(h).state() == ConsumerGroupState.ASSIGNING
    r = h.cg_heartbeat("g", "m1", r.member_epoch, owned=[("t", list(range(6)))])
    assert parts(r) == list(range(8)) and r.member_epoch == group(h).group_epoch


def test_subscription_change_revokes_unsubscribed_topics():
    h = Harness(topics={"t": 2, "u": 2})
    r = join(h, "m1", topics=("t", "u"))
    r = h.cg_heartbeat("g", "m1", r.member_epoch, topics=["u"], owned=[("t", [0, 1]), ("u", [0, 1])])
    assert parts(r, "t") == [] and parts(r, "u") == [0, 1]


# --- describe and cross-protocol -------------------------------------------------------------

def test_consumer_group_describe(h):
    join(h, "m1", instance_id="i1", rack="r1")
    join(h, "m2")
    d = h.call("consumer_group_describe", "g", 0, client_id="cid")[1]
    assert d.error_code == E.NONE and d.group_state in ("Reconciling", "Stable")
    assert d.group_epoch == 2 and d.assignment_epoch == 2 and d.assignor_name == "uniform"
    by_id = {m.member_id: m for m in d.members}
    assert by_id["m1"].instance_id == "i1" and by_id["m1"].rack_id == "r1"
    assert by_id["m1"].subscribed_topic_names == ["t"]
    assert by_id["m1"].assignment.topic_partitions[0].topic_name == "t"
    assert len(by_id["m2"].target_assignment.topic_partitions[0].partitions) == 3
    nf = h.call("consumer_group_describe", "nope", 0)[1]
    assert nf.error_code == E.GROUP_ID_NOT_FOUND


def test_describe_states(h):
    join(h, "m1")
    assert h.call("consumer_group_describe", "g", 0)[1].group_state == "Stable"
    h.cg_heartbeat("g", "m1", -1)
    assert h.call("consumer_group_describe", "g", 0)[1].group_state == "Empty"


def test_classic_join_to_a_consumer_group(h):
    join(h, "m1")
    _, r = h.join("g")
    assert r.error_code == E.INCONSISTENT_GROUP_PROTOCOL
    assert h.heartbeat("g", "m1", 1).error_code == E.UNKNOWN_MEMBER_ID
    assert h.sync("g", "m1", 1)[1].error_code == E.UNKNOWN_MEMBER_ID
    assert h.leave("g", [("m1", None)]).error_code == E.UNKNOWN_MEMBER_ID
    d = h.call("describe_groups", "g", 6)[1]
    assert d.error_code == E.GROUP_ID_NOT_FOUND and "not a classic group" in d.error_message


def test_consumer_heartbeat_to_a_classic_group(h):
    from test_groups_classic import stable_group
    stable_group(h, 1)
    r = join(h, "m1")
    assert r.error_code == E.GROUP_ID_NOT_FOUND
    d = h.call("consumer_group_describe", "g", 0)[1]
    assert d.error_code == E.GROUP_ID_NOT_FOUND and "not a consumer group" in d.error_message


def test_empty_groups_change_protocol(h):
    h.commit("g", {("t", 0): 3})  # an empty (simple) classic group
    assert join(h, "m1").error_code == E.NONE
    assert type(group(h)).__name__ == "ConsumerGroup" and h.committed("g") == 3
    h.cg_heartbeat("g", "m1", -1)
    token, r = h.join("g", version=3)
    h.advance(1)
    assert h.responses[token].error_code == E.NONE and type(group(h)).__name__ == "ClassicGroup"
    assert h.committed("g") == 3
    h.restart()
    assert type(group(h)).__name__ == "ClassicGroup" and h.committed("g") == 3


def test_delete_consumer_group(h):
    join(h, "m1")
    assert h.call("delete_groups", "g", 2)[1].error_code == E.NON_EMPTY_GROUP
    h.cg_heartbeat("g", "m1", -1)
    assert h.call("delete_groups", "g", 2)[1].error_code == E.NONE
    assert "g" not in h.shard.groups
    h.restart()
    assert "g" not in h.shard.groups


# --- persistence -----------------------------------------------------------------------------

def snapshot(h):
    g = group(h)
    return (g.group_epoch, g.assignment_epoch, g.metadata_hash, dict(g.target), dict(g.static_members),
            {m: (x.member_epoch, x.previous_member_epoch, x.state, dict(x.assigned), dict(x.pending_revocation),
                 x.subscribed_topic_names, x.instance_id, x.client_id, x.rebalance_timeout_ms)
             for m, x in g.members.items()}, dict(g.owners))


def test_restart_restores_epochs_and_assignments(h):
    join(h, "m1", instance_id="s1")
    join(h, "m2")
    h.cg_heartbeat("g", "m1", 1, owned=[("t", list(range(6)))])  # m1 mid-revocation
    before = snapshot(h)
    h.restart()
    assert snapshot(h) == before
    assert ("consumer-session", "g", "m1") in h.timers and ("consumer-rebalance", "g", "m1") in h.timers
    h.cg_heartbeat("g", "m1", 1, owned=[("t", list(range(6)))])
    members = settle(h, {"m1": assigned(h, "m1"), "m2": []})
    assert sorted(members["m1"] + members["m2"]) == list(range(6))


def test_records_written_for_a_join(h):
    join(h, "m1")
    types = [rec.decode(r).type for r, _, _ in h.log]
    assert types == [rec.RecordType.CONSUMER_GROUP_MEMBER_METADATA, rec.RecordType.CONSUMER_GROUP_METADATA,
                     rec.RecordType.CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER,
                     rec.RecordType.CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA,
                     rec.RecordType.CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT]
