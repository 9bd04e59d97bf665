"""OffsetCommit, TxnOffsetCommit, OffsetFetch, OffsetDelete and offset expiry."""

import uuid

from protocol import messages as M
from protocol.errors import ErrorCode
from pybroker.groups import records as rec

from group_harness import Harness, topic_id
from test_groups_classic import join_member, stable_group

E = ErrorCode


def codes(resp):
    return {(t.name, p.partition_index): p.error_code for t in resp.topics for p in t.partitions}


# --- OffsetCommit ----------------------------------------------------------------------------

def test_simple_consumer_commit_creates_a_simple_group(h):
    r = h.commit("g", {("t", 0): 10, ("t", 1): 11}, metadata="m", leader_epoch=3)
    assert set(codes(r).values()) == {E.NONE}
    f = h.fetch("g", {"t": [0, 1, 2]})
    assert f.error_code == E.NONE
    got = {p.partition_index: (p.committed_offset, p.committed_leader_epoch, p.metadata)
           for p in f.topics[0].partitions}
    assert got == {0: (10, 3, "m"), 1: (11, 3, "m"), 2: (-1, -1, "")}
    g = h.shard.groups["g"]
    assert g.is_simple() and g.state_name() == "Empty"
    d = rec.decode(h.log[-1][0])
    assert d.value_version == 3 and d.value.commit_timestamp == h.now


def test_commit_to_missing_group_with_a_generation(h):
    assert set(codes(h.commit("g", {("t", 0): 1}, generation=3, member_id="m", version=8)).values()) == \
        {E.ILLEGAL_GENERATION}
    assert set(codes(h.commit("g", {("t", 0): 1}, generation=3, member_id="m", version=9)).values()) == \
        {E.GROUP_ID_NOT_FOUND}
    assert "g" not in h.shard.groups


def test_commit_checks_of_classic_groups(h):
    a, b = stable_group(h, 2)

    def commit(**kw):
        return codes(h.commit("g", {("t", 0): 5}, version=8, **kw))[("t", 0)]

    assert commit(generation=1, member_id=a) == E.NONE
    assert commit(generation=0, member_id=a) == E.ILLEGAL_GENERATION
    assert commit(generation=1, member_id="ghost") == E.UNKNOWN_MEMBER_ID
    assert commit(generation=-1, member_id="") == E.UNKNOWN_MEMBER_ID  # non-empty group
    join_member(h)  # rebalance: PreparingRebalance still accepts the current generation
    assert commit(generation=1, member_id=a) == E.NONE


def test_commit_during_completing_rebalance(h):
    t1, m1 = join_member(h)
    h.advance(1)
    assert codes(h.commit("g", {("t", 0): 5}, generation=1, member_id=m1, version=8))[("t", 0)] == \
        E.REBALANCE_IN_PROGRESS


def test_commit_keeps_a_classic_member_alive(h):
    a, b = stable_group(h, 2, session=10_000)
    for _ in range(4):
        h.advance(4000)
        h.commit("g", {("t", 0): 1}, generation=1, member_id=a, version=8)
        h.heartbeat("g", b, 1)
    assert a in h.shard.groups["g"].members


def test_metadata_too_large():
    h = Harness(overrides={"offset.metadata.max.bytes": 4})
    r = h.commit("g", {("t", 0): 1}, metadata="12345")
    assert codes(r)[("t", 0)] == E.OFFSET_METADATA_TOO_LARGE
    r = h.commit("g", {("t", 0): 1}, metadata="1234")
    assert codes(r)[("t", 0)] == E.NONE


def test_unknown_topics_and_partitions(h):
    r = h.commit("g", {("t", 0): 1, ("t", 6): 1, ("nope", 0): 1})
    assert codes(r) == {("t", 0): E.NONE, ("t", 6): E.UNKNOWN_TOPIC_OR_PARTITION,
                        ("nope", 0): E.UNKNOWN_TOPIC_OR_PARTITION}
    # with only unknown partitions the group is not even looked at
    r = h.commit("other", {("nope", 0): 1}, generation=5, member_id="m", version=9)
    assert codes(r) == {("nope", 0): E.UNKNOWN_TOPIC_OR_PARTITION}


def test_group_errors_leave_unknown_partition_errors(h):
    r = h.commit("missing", {("t", 0): 1, ("nope", 0): 1}, generation=5, member_id="m", version=9)
    assert codes(r) == {("t", 0): E.GROUP_ID_NOT_FOUND, ("nope", 0): E.UNKNOWN_TOPIC_OR_PARTITION}


def test_commit_v10_by_topic_id(h):
    P = M.OffsetCommitRequest
    req = P(group_id="g", generation_id_or_member_epoch=-1, member_id="", topics=[
        P.OffsetCommitRequestTopic(topic_id=topic_id("t"), partitions=[
            P.OffsetCommitRequestPartition(partition_index=2, committed_offset=9, committed_metadata="")]),
        P.OffsetCommitRequestTopic(topic_id=uuid.uuid4(), partitions=[
            P.OffsetCommitRequestPartition(partition_index=0, committed_offset=9, committed_metadata="")])])
    _, r = h.call("offset_commit", req, 10)
    assert r.topics[0].topic_id == topic_id("t") and r.topics[0].partitions[0].error_code == E.NONE
    assert r.topics[1].partitions[0].error_code == E.UNKNOWN_TOPIC_ID
    assert h.committed("g", "t", 2) == 9


def test_commit_v2_retention_time_writes_an_expire_timestamp(h):
    h.commit("g", {("t", 0): 1}, version=2, retention_ms=60_000)
    d = rec.decode(h.log[-1][0])
    assert d.value_version == 1 and d.value.expire_timestamp == h.now + 60_000


def test_commit_v1_uses_the_request_timestamp(h):
    P = M.OffsetCommitRequest
    req = P(group_id="g", generation_id_or_member_epoch=-1, member_id="", topics=[
        P.OffsetCommitRequestTopic(name="t", partitions=[
            P.OffsetCommitRequestPartition(partition_index=0, committed_offset=3, commit_timestamp=12345,
                                           committed_metadata=None)])])
    h.call("offset_commit", req, 1)
    assert rec.decode(h.log[-1][0]).value.commit_timestamp == 12345


# --- OffsetFetch -------------------------------------------------------------------------------

def test_fetch_all_partitions_when_topics_is_null(h):
    h2 = Harness(topics={"t": 3, "u": 2})
    h2.commit("g", {("t", 0): 1, ("t", 2): 3, ("u", 1): 4})
    f = h2.fetch("g", None)
    got = {(t.name, p.partition_index): p.committed_offset for t in f.topics for p in t.partitions}
    assert got == {("t", 0): 1, ("t", 2): 3, ("u", 1): 4}
    assert h2.fetch("unknown", None).topics == []


def test_fetch_unknown_group_returns_no_offsets(h):
    f = h.fetch("nope", {"t": [0]})
    assert f.error_code == E.NONE and f.topics[0].partitions[0].committed_offset == -1


def test_fetch_v10_by_topic_id(h):
    h.commit("g", {("t", 4): 44})
    G = M.OffsetFetchRequest
    req = G.OffsetFetchRequestGroup(group_id="g", member_id=None, member_epoch=-1, topics=[
        G.OffsetFetchRequestTopics(topic_id=topic_id("t"), partition_indexes=[4]),
        G.OffsetFetchRequestTopics(topic_id=uuid.uuid4(), partition_indexes=[0])])
    _, f = h.call("offset_fetch", req, 10)
    assert f.topics[0].topic_id == topic_id("t") and f.topics[0].partitions[0].committed_offset == 44
    assert f.topics[1].partitions[0].error_code == E.UNKNOWN_TOPIC_ID
    req.topics = None
    _, f = h.call("offset_fetch", req, 10)
    assert [(t.topic_id, [p.committed_offset for p in t.partitions]) for t in f.topics] == [(topic_id("t"), [44])]


def test_offset_fetch_api_helpers_for_old_versions(h):
    from pybroker.groups.api import offset_fetch_groups, offset_fetch_response

    h.commit("g", {("t", 0): 5})
    R = M.OffsetFetchRequest
    old = R(group_id="g", topics=[R.OffsetFetchRequestTopic(name="t", partition_indexes=[0, 1])],
            require_stable=False)
    (group, stable), = offset_fetch_groups(old, 7)
    _, part = h.call("offset_fetch", group, 7, require_stable=stable)
    resp = offset_fetch_response([part], 7)
    assert resp.error_code == E.NONE
    assert [(p.partition_index, p.committed_offset) for p in resp.topics[0].partitions] == [(0, 5), (1, -1)]
    new = R(groups=[R.OffsetFetchRequestGroup(group_id="a", topics=None),
                    R.OffsetFetchRequestGroup(group_id="b", topics=None)], require_stable=True)
    assert [(g.group_id, s) for g, s in offset_fetch_groups(new, 8)] == [("a", True), ("b", True)]


def test_pending_transactional_offsets_and_require_stable(h):
    h.commit("g", {("t", 0): 1})
    txn(h, "g", {("t", 0): 100}, producer_id=7)
    assert h.committed("g") == 1  # not visible before the transaction commits
    f = h.fetch("g", {"t": [0, 1]}, require_stable=True)
    assert [p.error_code for p in f.topics[0].partitions] == [E.UNSTABLE_OFFSET_COMMIT, E.NONE]
    assert f.topics[0].partitions[0].committed_offset == -1
    h.marker(7, commit=True)
    assert h.committed("g") == 100
    assert h.fetch("g", {"t": [0]}, require_stable=True).topics[0].partitions[0].error_code == E.NONE


# --- TxnOffsetCommit ---------------------------------------------------------------------------

def txn(h, group, offsets, *, producer_id=1, epoch=0, generation=-1, member_id="", version=3,
        instance_id=None):
    R = M.TxnOffsetCommitRequest
    topics = {}
    for (t, p), o in offsets.items():
        topics.setdefault(t, []).append(R.TxnOffsetCommitRequestPartition(
            partition_index=p, committed_offset=o, committed_leader_epoch=-1, committed_metadata="tx"))
    req = R(transactional_id="tid", group_id=group, producer_id=producer_id, producer_epoch=epoch,
            generation_id=generation, member_id=member_id, group_instance_id=instance_id,
            topics=[R.TxnOffsetCommitRequestTopic(name=t, partitions=ps) for t, ps in topics.items()])
    token = next(h._tokens)
    fx = h.shard.txn_offset_commit(req, version, "c", "/h", token, h.now)
    if fx.records:
        assert fx.producer_id == producer_id and fx.producer_epoch == epoch
    h.apply(fx)
    return h.responses[token]


def test_txn_commit_visible_on_commit_marker_only(h):
    r = txn(h, "g", {("t", 0): 5, ("t", 1): 6}, producer_id=9)
    assert set(codes(r).values()) == {E.NONE}
    assert h.committed("g") == -1
    h.marker(9, commit=True)
    assert h.committed("g") == 5 and h.committed("g", "t", 1) == 6


def test_txn_commit_dropped_on_abort(h):
    h.commit("g", {("t", 0): 2})
    txn(h, "g", {("t", 0): 5}, producer_id=9)
    h.marker(9, commit=False)
    assert h.committed("g") == 2
    assert not h.shard.offsets.has_open_transactions("g")


def test_regular_commit_after_txn_commit_record_wins(h):
    txn(h, "g", {("t", 0): 5}, producer_id=9)
    h.commit("g", {("t", 0): 7})  # a later regular commit (higher record offset)
    h.marker(9, commit=True)
    assert h.committed("g") == 7


def test_txn_commit_checks(h):
    a, b = stable_group(h, 2)
    assert set(codes(txn(h, "g", {("t", 0): 1}, generation=1, member_id=a)).values()) == {E.NONE}
    assert set(codes(txn(h, "g", {("t", 0): 1}, generation=0, member_id=a)).values()) == {E.ILLEGAL_GENERATION}
    assert set(codes(txn(h, "g", {("t", 0): 1}, generation=1, member_id="x")).values()) == {E.UNKNOWN_MEMBER_ID}
    # v0-2 carry no member: accepted on a non-empty group
    assert set(codes(txn(h, "g", {("t", 0): 1}, version=2)).values()) == {E.NONE}
    assert set(codes(txn(h, "missing", {("t", 0): 1}, generation=2, member_id="m")).values()) == \
        {E.ILLEGAL_GENERATION}
    assert set(codes(txn(h, "g", {("nope", 0): 1})).values()) == {E.UNKNOWN_TOPIC_OR_PARTITION}


def test_txn_offsets_survive_a_restart_until_their_marker(h):
    txn(h, "g", {("t", 0): 5}, producer_id=9)
    h.restart()
    assert h.committed("g") == -1
    h.marker(9, commit=True)
    assert h.committed("g") == 5
    h.restart()
    assert h.committed("g") == 5


# --- OffsetDelete ------------------------------------------------------------------------------

def offset_delete(h, group, parts):
    R = M.OffsetDeleteRequest
    topics = {}
    for t, p in parts:
        topics.setdefault(t, []).append(R.OffsetDeleteRequestPartition(partition_index=p))
    req = R(group_id=group, topics=[R.OffsetDeleteRequestTopic(name=t, partitions=ps) for t, ps in topics.items()])
    return h.call("offset_delete", req, 0)[1]


def test_offset_delete_on_empty_group(h):
    h.commit("g", {("t", 0): 1, ("t", 1): 2})
    r = offset_delete(h, "g", [("t", 0), ("t", 5), ("nope", 0), ("t", 9)])
    assert r.error_code == E.NONE
    assert codes(r) == {("t", 0): E.NONE, ("t", 5): E.NONE, ("nope", 0): E.UNKNOWN_TOPIC_OR_PARTITION,
                        ("t", 9): E.UNKNOWN_TOPIC_OR_PARTITION}
    assert h.committed("g") == -1 and h.committed("g", "t", 1) == 2
    assert offset_delete(h, "nope", [("t", 0)]).error_code == E.GROUP_ID_NOT_FOUND


def test_offset_delete_on_a_subscribed_consumer_protocol_group():
    h = Harness(topics={"t": 6, "u": 1})
    a, b = stable_group(h, 2)
    h.commit("g", {("t", 0): 1, ("u", 0): 1}, generation=1, member_id=a, version=8)
    r = offset_delete(h, "g", [("t", 0), ("u", 0)])
    assert r.error_code == E.NONE
    assert codes(r) == {("t", 0): E.GROUP_SUBSCRIBED_TO_TOPIC, ("u", 0): E.NONE}


def test_offset_delete_on_a_non_consumer_protocol_group(h):
    join_member(h, protocol_type="connect", protocols=[("default", b"x")])
    assert offset_delete(h, "g", [("t", 0)]).error_code == E.NON_EMPTY_GROUP


# --- expiry ------------------------------------------------------------------------------------

RETENTION_MS = 10 * 60_000


def expiry_harness():
    return Harness(overrides={"offsets.retention.minutes": 10, "offsets.retention.check.interval.ms": 60_000})


def test_simple_group_offsets_expire_by_commit_time_then_the_group_goes():
    h = expiry_harness()
    h.commit("g", {("t", 0): 1})
    h.advance(5 * 60_000)
    h.commit("g", {("t", 1): 1})
    h.advance(5 * 60_000 + 60_000)
    assert h.committed("g", "t", 0) == -1 and h.committed("g", "t", 1) == 1
    assert "g" in h.shard.groups
    h.advance(5 * 60_000)
    assert h.committed("g", "t", 1) == -1 and "g" not in h.shard.groups
    h.restart()
    assert "g" not in h.shard.groups


def test_empty_group_offsets_expire_from_when_it_became_empty():
    h = expiry_harness()
    (a,) = stable_group(h, 1, session=30_000)
    h.commit("g", {("t", 0): 1}, generation=1, member_id=a, version=8)
    for _ in range(60):  # the member stays for 20 minutes
        h.advance(20_000)
        assert h.heartbeat("g", a, 1).error_code == E.NONE
    assert h.committed("g") == 1  # a Stable group keeps offsets of subscribed topics
    h.leave("g", [(a, None)])
    h.advance(RETENTION_MS - 60_000)
    assert h.committed("g") == 1
    h.advance(2 * 60_000)
    assert h.committed("g") == -1 and "g" not in h.shard.groups


def test_explicit_retention_time_expires_early():
    h = expiry_harness()
    h.commit("g", {("t", 0): 1}, version=2, retention_ms=60_000)
    h.advance(2 * 60_000)
    assert h.committed("g") == -1


def test_stable_consumer_group_expires_only_unsubscribed_topics():
    h = Harness(topics={"t": 6, "old": 1},
                overrides={"offsets.retention.minutes": 10, "offsets.retention.check.interval.ms": 60_000})
    (a,) = stable_group(h, 1, session=30_000)
    h.commit("g", {("t", 0): 1, ("old", 0): 1}, generation=1, member_id=a, version=8)
    for _ in range(36):
        h.advance(20_000)
        assert h.heartbeat("g", a, 1).error_code == E.NONE
    assert h.committed("g", "t", 0) == 1 and h.committed("g", "old", 0) == -1


def test_pending_transaction_blocks_expiry():
    h = expiry_harness()
    h.commit("g", {("t", 0): 1})
    txn(h, "g", {("t", 0): 5}, producer_id=3)
    h.advance(RETENTION_MS + 60_000)
    assert h.committed("g") == 1 and "g" in h.shard.groups
    h.marker(3, commit=False)
    h.advance(60_000)
    assert h.committed("g") == -1


def test_offsets_of_deleted_topics_are_deleted():
    h = Harness(topics={"t": 2, "gone": 2})
    h.commit("g", {("t", 0): 1, ("gone", 1): 2})
    h.set_image({"t": 2})
    assert h.committed("g", "gone", 1) == -1 and h.committed("g", "t", 0) == 1


# --- consumer group commits --------------------------------------------------------------------

def test_commit_checks_of_consumer_groups(h):
    h.cg_heartbeat("g", "m1", 0, topics=["t"], rebalance=30_000, owned=[])

    def commit(**kw):
        return codes(h.commit("g", {("t", 0): 5}, **kw))[("t", 0)]

    assert commit(generation=1, member_id="m1", version=9) == E.NONE
    assert commit(generation=2, member_id="m1", version=9) == E.STALE_MEMBER_EPOCH
    assert commit(generation=1, member_id="m9", version=9) == E.UNKNOWN_MEMBER_ID
    assert commit(generation=-1, member_id="", version=9) == E.UNKNOWN_MEMBER_ID
    assert commit(generation=1, member_id="m1", version=8) == E.UNSUPPORTED_VERSION
    f = h.fetch("g", {"t": [0]}, member_id="m1", member_epoch=1)
    assert f.error_code == E.NONE and f.topics[0].partitions[0].committed_offset == 5
    assert h.fetch("g", {"t": [0]}, member_id="m1", member_epoch=0).error_code == E.STALE_MEMBER_EPOCH
    assert h.fetch("g", {"t": [0]}, member_id="zz", member_epoch=1).error_code == E.UNKNOWN_MEMBER_ID
    assert h.fetch("g", {"t": [0]}).error_code == E.NONE  # the admin client


def test_commit_to_empty_consumer_group_without_member(h):
    h.cg_heartbeat("g", "m1", 0, topics=["t"], rebalance=30_000, owned=[])
    h.cg_heartbeat("g", "m1", -1)
    assert codes(h.commit("g", {("t", 0): 5}))[("t", 0)] == E.NONE
