"""MetadataImage and MetadataDelta: replay semantics, structural sharing, snapshot records."""

from __future__ import annotations

import uuid

import pytest

from pybroker.metadata import records as r
from pybroker.metadata.image import (
    NO_LEADER, UNASSIGNED_DIRECTORY, ConfigResource, ConfigResourceType, MetadataApplyError,
    MetadataDelta, MetadataImage, Provenance, image_from_records,
)

T1 = uuid.UUID(int=101)
T2 = uuid.UUID(int=102)
INC = uuid.UUID(int=9)


def broker(bid, epoch=0, fenced=True):
    return r.RegisterBrokerRecord(
        broker_id=bid, incarnation_id=INC, broker_epoch=epoch, fenced=fenced, rack=None,
        end_points=[r.BrokerEndpoint(name="PLAINTEXT", host="localhost", port=9092 + bid, security_protocol=0)],
    )


def partition(tid, p, replicas, leader=None):
    return r.PartitionRecord(partition_id=p, topic_id=tid, replicas=replicas, isr=replicas,
                             leader=replicas[0] if leader is None else leader, leader_epoch=0,
                             partition_epoch=0, directories=[UNASSIGNED_DIRECTORY] * len(replicas))


def base_image():
    return image_from_records([
        r.FeatureLevelRecord(name="metadata.version", feature_level=25),
        broker(1), broker(2),
        r.TopicRecord(name="a", topic_id=T1), partition(T1, 0, [1, 2]), partition(T1, 1, [2, 1]),
        r.TopicRecord(name="b.x", topic_id=T2), partition(T2, 0, [1]),
        r.ConfigRecord(resource_type=2, resource_name="a", name="retention.ms", value="1000"),
    ], "cid", Provenance(8, 1, 0))


def test_lookups():
    img = base_image()
    assert img.metadata_version == 25
    assert img.topic("a").topic_id == T1
    assert img.topic_by_id(T2).name == "b.x"
    assert img.partition("a", 1).leader == 2
    assert img.topic("a").num_partitions == 2 and img.topic("a").replication_factor == 2
    assert img.broker(2).endpoint("PLAINTEXT").port == 9094
    assert img.topic_config("a") == {"retention.ms": "1000"}
    assert img.broker_config(None) == {}
    assert img.offset == 8 and img.epoch == 1
    assert img.colliding_topic("b_x") == "b.x"
    assert img.colliding_topic("b.x") is None
    assert img.colliding_topic("a") is None


def test_structural_sharing():
    img = base_image()
    nxt = MetadataDelta(img).replay_all([
        r.PartitionChangeRecord(partition_id=0, topic_id=T1, isr=[1]),
    ]).apply()
    assert nxt.topic("b.x") is img.topic("b.x")
    assert nxt.topic("a").partitions[1] is img.topic("a").partitions[1]
    assert nxt.brokers is img.brokers and nxt.configs is img.configs and nxt.features is img.features
    assert nxt.partition("a", 0).isr == (1,)
    assert img.partition("a", 0).isr == (1, 2)  # the old image is untouched


def test_partition_change_merge():
    img = base_image()
    d = MetadataDelta(img).replay_all([
        r.PartitionChangeRecord(partition_id=0, topic_id=T1, leader=2),
        r.PartitionChangeRecord(partition_id=0, topic_id=T1, isr=[2]),
        r.PartitionChangeRecord(partition_id=1, topic_id=T1, replicas=[2, 3], isr=[2]),
    ])
    nxt = d.apply()
    p0 = nxt.partition("a", 0)
    assert (p0.leader, p0.leader_epoch, p0.partition_epoch, p0.isr) == (2, 1, 2, (2,))
    p1 = nxt.partition("a", 1)
    assert p1.replicas == (2, 3) and p1.leader_epoch == 0 and p1.partition_epoch == 1
    assert p1.directories == (UNASSIGNED_DIRECTORY, UNASSIGNED_DIRECTORY)
    changes = {(c.topic, c.partition): (c.old, c.new) for c in d.partition_changes()}
    assert changes[("a", 0)][0] == img.partition("a", 0)


def test_remove_topic_drops_configs_and_names():
    img = base_image()
    d = MetadataDelta(img).replay_all([r.RemoveTopicRecord(topic_id=T1), r.RemoveTopicRecord(topic_id=T2)])
    nxt = d.apply()
    assert nxt.topic("a") is None and nxt.topic_by_id(T1) is None
    assert nxt.topic_config("a") == {}
    assert set(d.deleted_topics) == {T1, T2}
    assert nxt.colliding_topic("b_x") is None
    local = d.local_changes(1)
    assert sorted(x[1:] for x in local.deletes) == [("a", 0), ("a", 1), ("b.x", 0)]


def test_create_and_delete_in_one_delta():
    img = base_image()
    t3 = uuid.UUID(int=103)
    d = MetadataDelta(img).replay_all([
        r.TopicRecord(name="c", topic_id=t3), partition(t3, 0, [1]), r.RemoveTopicRecord(topic_id=t3),
    ])
    nxt = d.apply()
    assert nxt.topic("c") is None and not d.deleted_topics and not d.topics
    assert nxt == img


def test_delete_and_recreate_same_name():
    img = base_image()
    t3 = uuid.UUID(int=103)
    nxt = MetadataDelta(img).replay_all([
        r.RemoveTopicRecord(topic_id=T1), r.TopicRecord(name="a", topic_id=t3), partition(t3, 0, [2]),
    ]).apply()
    assert nxt.topic("a").topic_id == t3 and nxt.topic_by_id(T1) is None


def test_brokers_fence_unfence_change():
    img = base_image()
    nxt = MetadataDelta(img).replay_all([
        r.UnfenceBrokerRecord(id=1, epoch=0),
        r.BrokerRegistrationChangeRecord(broker_id=2, broker_epoch=0, fenced=-1, in_controlled_shutdown=1),
    ]).apply()
    assert not nxt.broker(1).fenced and nxt.broker(1).active
    assert not nxt.broker(2).fenced and nxt.broker(2).in_controlled_shutdown and not nxt.broker(2).active
    nxt2 = MetadataDelta(nxt).replay_all([
        r.FenceBrokerRecord(id=1, epoch=0), r.UnregisterBrokerRecord(broker_id=2, broker_epoch=0),
    ]).apply()
    assert nxt2.broker(1).fenced and nxt2.broker(2) is None
    with pytest.raises(MetadataApplyError, match="epoch"):
        MetadataDelta(img).replay(r.UnfenceBrokerRecord(id=1, epoch=5))


def test_features_configs_producer_ids():
    img = base_image()
    nxt = MetadataDelta(img).replay_all([
        r.FeatureLevelRecord(name="group.version", feature_level=1),
        r.FeatureLevelRecord(name="metadata.version", feature_level=0),
        r.ConfigRecord(resource_type=4, resource_name="", name="log.retention.ms", value="5"),
        r.ConfigRecord(resource_type=2, resource_name="a", name="retention.ms", value=None),
        r.ProducerIdsRecord(broker_id=1, broker_epoch=0, next_producer_id=1000),
        r.NoOpRecord(),
    ]).apply()
    assert nxt.features == {"group.version": 1}
    assert nxt.broker_config(None) == {"log.retention.ms": "5"}
    assert ConfigResource(ConfigResourceType.TOPIC, "a") not in nxt.configs
    assert nxt.next_producer_id == 1000


@pytest.mark.parametrize("rec,match", [
    (r.PartitionRecord(partition_id=0, topic_id=uuid.UUID(int=5), replicas=[1], isr=[1], leader=1), "unknown topic"),
    (r.TopicRecord(name="a", topic_id=uuid.UUID(int=5)), "already exists"),
    (r.TopicRecord(name="zz", topic_id=T1), "already exists"),
    (r.RemoveTopicRecord(topic_id=uuid.UUID(int=5)), "unknown topic"),
    (r.PartitionChangeRecord(partition_id=7, topic_id=T1), "unknown partition"),
    (r.UnregisterBrokerRecord(broker_id=9, broker_epoch=0), "unknown broker"),
])
def test_inconsistent_records(rec, match):
    with pytest.raises(MetadataApplyError, match=match):
        MetadataDelta(base_image()).replay(rec)


def test_snapshot_records_rebuild_equal_image():
    img = base_image()
    img = MetadataDelta(img).replay_all([
        r.ProducerIdsRecord(broker_id=1, broker_epoch=0, next_producer_id=2000),
        r.BrokerRegistrationChangeRecord(broker_id=1, broker_epoch=0, fenced=-1),
        r.PartitionChangeRecord(partition_id=0, topic_id=T1, leader=NO_LEADER, isr=[1]),
    ]).apply()
    records = img.to_records()
    assert type(records[0]) is r.FeatureLevelRecord
    again = image_from_records([r.decode_record(r.encode_record(x)) for x in records], "cid")
    assert again == img
    assert again.partition("a", 0) == img.partition("a", 0)


def test_local_changes_leaders_followers():
    img = base_image()
    t3 = uuid.UUID(int=103)
    d = MetadataDelta(img).replay_all([
        r.TopicRecord(name="c", topic_id=t3), partition(t3, 0, [1, 2]), partition(t3, 1, [2, 1]),
        r.PartitionChangeRecord(partition_id=0, topic_id=T1, replicas=[2], isr=[2], leader=2),
    ])
    local = d.local_changes(1)
    assert [(c.topic, c.partition) for c in local.leaders] == [("c", 0)]
    assert [(c.topic, c.partition) for c in local.followers] == [("c", 1)]
    assert [x[1:] for x in local.deletes] == [("a", 0)]


def test_equality_ignores_provenance():
    img = base_image()
    assert img.with_provenance(Provenance(99, 7, 5)) == img
    assert MetadataImage.empty("x").is_empty


def test_changed_topic_configs():
    img = base_image()
    d = MetadataDelta(img).replay_all([
        r.ConfigRecord(resource_type=2, resource_name="b.x", name="retention.ms", value="5"),
        r.ConfigRecord(resource_type=4, resource_name="", name="log.retention.ms", value="5"),
        r.RemoveTopicRecord(topic_id=T1),
    ])
    assert d.changed_topic_configs == {"a", "b.x"}
