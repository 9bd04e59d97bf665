"""Controller broker operations on fixed images: registration, heartbeats (fence, unfence,
controlled shutdown, session expiry), unregistration, producer ids and bootstrap."""

from __future__ import annotations

import uuid

from protocol.errors import ErrorCode
from pybroker.metadata import controller as c
from pybroker.metadata import records as r
from pybroker.metadata.image import NO_LEADER, Endpoint, MetadataImage
from pybroker.metadata.requests import BrokerHeartbeatRequest, BrokerRegistrationRequest
from metadata_helpers import CLUSTER, apply, broker_record, ctx, inc, make_image, topic_records, tracker

T1 = uuid.UUID(int=0xA1)
NOW = 1_000_000


def registration(bid=1, incarnation=None, cluster=CLUSTER, features=None):
    return BrokerRegistrationRequest(bid, cluster, incarnation or inc(bid), [Endpoint("PLAINTEXT", "h", 9092)],
                                     features if features is not None else {"metadata.version": (7, 25)})


def test_register_new_broker_is_fenced_with_epoch_of_its_offset():
    img = make_image()
    res = c.register_broker(img, registration(4), ctx(next_offset=123), tracker())
    assert res.response.error.ok and res.response.broker_epoch == 123
    [rec] = res.records
    assert rec.broker_epoch == 123 and rec.fenced
    after = apply(img, res.records)
    reg = after.broker(4)
    assert reg.epoch == 123 and reg.fenced and reg.endpoint("PLAINTEXT").host == "h"


def test_same_incarnation_keeps_its_state_and_gets_a_new_epoch():
    img = make_image(broker_record(1, fenced=False))
    res = c.register_broker(img, registration(1), ctx(next_offset=200), tracker(1))
    assert res.response.error.ok
    after = apply(img, res.records)
    assert after.broker(1).epoch == 200 and not after.broker(1).fenced


def test_new_incarnation_refused_while_session_lives():
    img = make_image(broker_record(1, fenced=False))
    res = c.register_broker(img, registration(1, incarnation=uuid.UUID(int=5)), ctx(now=NOW + 1000), tracker(1))
    assert res.response.error.code == ErrorCode.DUPLICATE_BROKER_REGISTRATION and not res.records
    assert res.response.error.message == "Another broker is registered with that broker id."
    # After the session expires, the new incarnation replaces the old one, fenced.
    res = c.register_broker(img, registration(1, incarnation=uuid.UUID(int=5)), ctx(now=NOW + 9000), tracker(1))
    assert res.response.error.ok and apply(img, res.records).broker(1).fenced


def test_register_errors():
    img = make_image()
    res = c.register_broker(img, registration(cluster="other"), ctx(), tracker())
    assert res.response.error.code == ErrorCode.INCONSISTENT_CLUSTER_ID
    assert res.response.error.message == f"Expected cluster ID {CLUSTER}, but got cluster ID other"
    res = c.register_broker(img, registration(features={"metadata.version": (1, 5)}), ctx(), tracker())
    assert res.response.error.code == ErrorCode.UNSUPPORTED_VERSION and not res.records


def fenced_leaderless_image():
    # Broker 1 fenced and leading nothing; broker 2 active.
    return make_image(
        broker_record(1, fenced=True), broker_record(2),
        *topic_records("a", T1, [[1, 2], [1], [2, 1]], isr=[[1, 2], [1], [2, 1]], leader=[2, NO_LEADER, 2]),
    )


def test_heartbeat_unfences_a_caught_up_broker_and_elects_it():
    img = fenced_leaderless_image()
    req = BrokerHeartbeatRequest(1, 10, current_metadata_offset=10)
    res = c.broker_heartbeat(img, req, ctx(), tracker())
    assert res.response.error.ok and res.response.is_caught_up and not res.response.is_fenced
    after = apply(img, res.records)
    assert not after.broker(1).fenced
    p1 = after.partition("a", 1)
    assert p1.leader == 1 and p1.leader_epoch == 1
    assert after.partition("a", 0).leader == 2  # led partitions keep their leader


def test_heartbeat_not_caught_up_stays_fenced():
    img = fenced_leaderless_image()
    res = c.broker_heartbeat(img, BrokerHeartbeatRequest(1, 10, current_metadata_offset=9), ctx(), tracker())
    assert res.response.is_fenced and not res.response.is_caught_up and not res.records


def test_heartbeat_errors():
    img = fenced_leaderless_image()
    res = c.broker_heartbeat(img, BrokerHeartbeatRequest(9, 0, 0), ctx(), tracker())
    assert res.response.error.code == ErrorCode.BROKER_ID_NOT_REGISTERED
    res = c.broker_heartbeat(img, BrokerHeartbeatRequest(1, 11, 100), ctx(), tracker())
    assert res.response.error.code == ErrorCode.STALE_BROKER_EPOCH
    assert res.response.error.message == "Expected broker epoch 10, but got broker epoch 11"


def active_image():
    return make_image(
        broker_record(1), broker_record(2),
        *topic_records("a", T1, [[1, 2], [1], [2, 1]]),
    )


def test_want_fence_moves_leadership_and_shrinks_isrs():
    img = active_image()
    res = c.broker_heartbeat(img, BrokerHeartbeatRequest(1, 10, 100, want_fence=True), ctx(), tracker())
    assert res.response.is_fenced
    after = apply(img, res.records)
    assert after.broker(1).fenced
    p0, p1, p2 = (after.partition("a", i) for i in range(3))
    assert (p0.leader, p0.isr, p0.leader_epoch) == (2, (2,), 1)
    assert (p1.leader, p1.isr) == (NO_LEADER, (1,))  # a singleton ISR stays; the leader goes
    assert (p2.leader, p2.isr, p2.leader_epoch) == (2, (2,), 0)


def test_controlled_shutdown():
    img = active_image()
    res = c.broker_heartbeat(img, BrokerHeartbeatRequest(1, 10, 100, want_shut_down=True), ctx(), tracker())
    assert res.response.should_shut_down and res.response.is_fenced
    after = apply(img, res.records)
    assert after.broker(1).in_controlled_shutdown and after.broker(1).fenced
    assert all(p.leader != 1 for p in after.topic("a").partitions.values())


def test_session_expiry_fences():
    img = active_image()
    t = tracker(1, 2)
    t.touch(2, NOW + 8000)
    res = c.fence_stale_brokers(img, ctx(now=NOW + 9500), t)
    assert res.response == [1]
    after = apply(img, res.records)
    assert after.broker(1).fenced and not after.broker(2).fenced
    assert after.partition("a", 0).leader == 2


def test_unregister_broker():
    img = active_image()
    res = c.unregister_broker(img, 2, ctx(), tracker(2))
    assert res.response.ok
    after = apply(img, res.records)
    assert after.broker(2) is None
    assert after.partition("a", 2).leader == 1 and after.partition("a", 2).isr == (1,)
    res = c.unregister_broker(img, 5, ctx(), tracker())
    assert res.response.code == ErrorCode.BROKER_ID_NOT_REGISTERED


def test_allocate_producer_ids():
    img = active_image()
    res = c.allocate_producer_ids(img, 1, 10, ctx())
    assert (res.response.first_producer_id, res.response.size) == (0, 1000)
    after = apply(img, res.records)
    assert after.next_producer_id == 1000
    res = c.allocate_producer_ids(after, 2, 20, ctx())
    assert res.response.first_producer_id == 1000 and apply(after, res.records).next_producer_id == 2000
    res = c.allocate_producer_ids(img, 1, 11, ctx())
    assert res.response.error.code == ErrorCode.STALE_BROKER_EPOCH and not res.records
    res = c.allocate_producer_ids(img, 7, 0, ctx())
    assert res.response.error.message == "No broker registration found for broker 7"


def test_bootstrap_records():
    res = c.bootstrap(MetadataImage.empty(CLUSTER), ctx())
    assert [(x.name, x.feature_level) for x in res.records] == [("metadata.version", 25), ("transaction.version", 2)]
    res = c.bootstrap(MetadataImage.empty(CLUSTER), ctx(bootstrap_features={"group.version": 1,
                                                                          "metadata.version": 25}))
    assert [x.name for x in res.records] == ["metadata.version", "group.version"]
    assert c.bootstrap(make_image(), ctx()).records == []
    assert isinstance(res.records[0], r.FeatureLevelRecord)
