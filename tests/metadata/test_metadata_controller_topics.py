"""Controller topic operations on fixed images: CreateTopics, DeleteTopics, CreatePartitions."""

from __future__ import annotations

import collections
import uuid

import pytest

from protocol.errors import ErrorCode
from pybroker.metadata import controller as c
from pybroker.metadata import records as r
from pybroker.metadata.requests import (
    CreatableTopic, CreatePartitionsRequest, CreatePartitionsTopic, CreateTopicsRequest, DeleteTopicsRequest,
)
from metadata_helpers import apply, broker_record, ctx, make_image, topic_records

T1 = uuid.UUID(int=0xA1)
T2 = uuid.UUID(int=0xA2)


def three_brokers(**kw):
    return make_image(broker_record(1), broker_record(2), broker_record(3), **kw)


def create(image, *topics, validate_only=False, context=None):
    res = c.create_topics(image, CreateTopicsRequest(list(topics), validate_only), context or ctx())
    return res.records, res.response


def test_create_topic_with_defaults():
    image = three_brokers()
    records, [res] = create(image, CreatableTopic("orders", configs={"retention.ms": "60000"}),
                            context=ctx(num_partitions=6, default_replication_factor=3))
    assert res.error.ok and res.num_partitions == 6 and res.replication_factor == 3
    assert res.configs == {"retention.ms": "60000"}
    assert [type(x).__name__ for x in records] == ["TopicRecord", "ConfigRecord"] + ["PartitionRecord"] * 6
    assert records[0].topic_id == res.topic_id
    after = apply(image, records)
    topic = after.topic("orders")
    assert topic.topic_id == res.topic_id and topic.num_partitions == 6
    leaders = collections.Counter(p.leader for p in topic.partitions.values())
    assert leaders == {1: 2, 2: 2, 3: 2}  # leaders spread round-robin
    for p in topic.partitions.values():
        assert sorted(p.replicas) == [1, 2, 3] and p.isr == p.replicas and p.leader == p.replicas[0]
        assert p.leader_epoch == 0 and p.partition_epoch == 0
    assert after.topic_config("orders") == {"retention.ms": "60000"}


def test_create_is_deterministic_given_the_random_source():
    image = three_brokers()
    a = create(image, CreatableTopic("x", 5, 2), context=ctx(seed=3))
    b = create(image, CreatableTopic("x", 5, 2), context=ctx(seed=3))
    assert a[0] == b[0]


def test_placement_alternates_racks():
    image = make_image(broker_record(1, rack="a"), broker_record(2, rack="a"), broker_record(3, rack="b"),
                       broker_record(4, rack="b"))
    records, [res] = create(image, CreatableTopic("x", 8, 2))
    after = apply(image, records)
    racks = {1: "a", 2: "a", 3: "b", 4: "b"}
    for p in after.topic("x").partitions.values():
        assert {racks[b] for b in p.replicas} == {"a", "b"}
    assert collections.Counter(p.leader for p in after.topic("x").partitions.values()) == {1: 2, 2: 2, 3: 2, 4: 2}


def test_placement_uses_only_active_brokers():
    image = make_image(broker_record(1), broker_record(2, fenced=True), broker_record(3))
    records, [res] = create(image, CreatableTopic("x", 4, 2))
    after = apply(image, records)
    assert all(2 not in p.replicas for p in after.topic("x").partitions.values())


@pytest.mark.parametrize("name,message", [
    ("", "Topic name is illegal, it can't be empty"),
    (".", 'Topic name cannot be "." or ".."'),
    ("..", 'Topic name cannot be "." or ".."'),
    ("x" * 250, "Topic name is illegal, it can't be longer than 249 characters, topic name: " + "x" * 250),
    ("a b", 'Topic name "a b" is illegal, it contains a character other than ASCII alphanumerics, '
            "'.', '_' and '-'"),
    ("ü", None),
])
def test_invalid_topic_names(name, message):
    records, [res] = create(three_brokers(), CreatableTopic(name))
    assert res.error.code == ErrorCode.INVALID_TOPIC_EXCEPTION and not records
    if message:
        assert res.error.message == message


def test_longest_legal_name():
    records, [res] = create(three_brokers(), CreatableTopic("x" * 249))
    assert res.error.ok and records


def test_existing_and_colliding_topics():
    image = make_image(broker_record(1), *topic_records("a.b", T1, [[1]]))
    records, results = create(image, CreatableTopic("a.b"), CreatableTopic("a_b"), CreatableTopic("c_d"),
                              CreatableTopic("c.d"))
    assert [x.error.code for x in results] == [
        ErrorCode.TOPIC_ALREADY_EXISTS, ErrorCode.INVALID_TOPIC_EXCEPTION, ErrorCode.NONE,
        ErrorCode.INVALID_TOPIC_EXCEPTION]
    assert results[0].error.message == "Topic 'a.b' already exists."
    assert results[1].error.message == "Topic 'a_b' collides with existing topic: a.b"
    assert results[3].error.message == "Topic 'c.d' collides with existing topic: c_d"
    assert [x.name for x in records if isinstance(x, r.TopicRecord)] == ["c_d"]


def test_duplicate_names_in_one_request():
    records, results = create(three_brokers(), CreatableTopic("x"), CreatableTopic("x"), CreatableTopic("y"))
    assert [x.error.code for x in results] == [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST, ErrorCode.NONE]
    assert results[0].error.message == "Duplicate topic name."


@pytest.mark.parametrize("topic,code,message", [
    (CreatableTopic("x", 1, 0), ErrorCode.INVALID_REPLICATION_FACTOR,
     "Replication factor must be larger than 0, or -1 to use the default value."),
    (CreatableTopic("x", 1, -3), ErrorCode.INVALID_REPLICATION_FACTOR, None),
    (CreatableTopic("x", 0, 1), ErrorCode.INVALID_PARTITIONS,
     "Number of partitions was set to an invalid non-positive value."),
    (CreatableTopic("x", -2, 1), ErrorCode.INVALID_PARTITIONS, None),
    (CreatableTopic("x", 1, 4), ErrorCode.INVALID_REPLICATION_FACTOR,
     "Unable to replicate the partition 4 time(s): The target replication factor of 4 cannot be reached "
     "because only 3 broker(s) are registered."),
    (CreatableTopic("x", 10_000_000, 1), ErrorCode.INVALID_PARTITIONS, None),
])
def test_partition_and_replication_errors(topic, code, message):
    records, [res] = create(three_brokers(), topic)
    assert res.error.code == code and not records
    if message:
        assert res.error.message == message


def test_all_brokers_fenced():
    image = make_image(broker_record(1, fenced=True))
    _records, [res] = create(image, CreatableTopic("x"))
    assert res.error.code == ErrorCode.INVALID_REPLICATION_FACTOR
    assert res.error.message == "Unable to replicate the partition 1 time(s): All brokers are currently fenced."


def test_manual_assignments():
    image = make_image(broker_record(1), broker_record(2), broker_record(3, fenced=True))
    records, [res] = create(image, CreatableTopic("x", assignments={0: [2, 1], 1: [3, 2], 2: [1, 3]}))
    assert res.error.ok and res.num_partitions == 3 and res.replication_factor == 2
    after = apply(image, records)
    p1 = after.partition("x", 1)
    assert p1.replicas == (3, 2) and p1.isr == (2,) and p1.leader == 2  # fenced 3 is not in the ISR
    assert after.partition("x", 0).leader == 2


@pytest.mark.parametrize("topic,code,message", [
    (CreatableTopic("x", -1, 2, assignments={0: [1, 2]}), ErrorCode.INVALID_REQUEST,
     "A manual partition assignment was specified, but replication factor was not set to -1."),
    (CreatableTopic("x", 1, -1, assignments={0: [1, 2]}), ErrorCode.INVALID_REQUEST,
     "A manual partition assignment was specified, but numPartitions was not set to -1."),
    (CreatableTopic("x", assignments={0: [1], 2: [2]}), ErrorCode.INVALID_REPLICA_ASSIGNMENT,
     "partitions should be a consecutive 0-based integer sequence"),
    (CreatableTopic("x", assignments={0: []}), ErrorCode.INVALID_REPLICA_ASSIGNMENT,
     "The manual partition assignment includes an empty replica list."),
    (CreatableTopic("x", assignments={0: [1, 9]}), ErrorCode.INVALID_REPLICA_ASSIGNMENT,
     "The manual partition assignment includes broker 9, but no such broker is registered."),
    (CreatableTopic("x", assignments={0: [1, 1]}), ErrorCode.INVALID_REPLICA_ASSIGNMENT,
     "The manual partition assignment includes the broker 1 more than once."),
    (CreatableTopic("x", assignments={0: [1, 2], 1: [1]}), ErrorCode.INVALID_REPLICA_ASSIGNMENT,
     "The manual partition assignment includes a partition with 1 replica(s), but this is not consistent "
     "with previous partitions, which have 2 replica(s)."),
    (CreatableTopic("x", assignments={0: [3]}), ErrorCode.INVALID_REPLICA_ASSIGNMENT,
     "All brokers specified in the manual partition assignment for partition 0 are fenced or in "
     "controlled shutdown."),
])
def test_manual_assignment_errors(topic, code, message):
    image = make_image(broker_record(1), broker_record(2), broker_record(3, fenced=True))
    records, [res] = create(image, topic)
    assert (res.error.code, res.error.message) == (code, message) and not records


@pytest.mark.parametrize("configs,code,fragment", [
    ({"retention.ms": "abc"}, ErrorCode.INVALID_CONFIG, "Invalid value abc for configuration retention.ms"),
    ({"no.such.config": "1"}, ErrorCode.INVALID_CONFIG, "Unknown topic config name: no.such.config"),
    ({"retention.ms": None}, ErrorCode.INVALID_REQUEST, "Null value not supported for : retention.ms"),
    ({"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"}, ErrorCode.INVALID_CONFIG, "conflict"),
])
def test_topic_config_errors(configs, code, fragment):
    records, [res] = create(three_brokers(), CreatableTopic("x", configs=configs))
    assert res.error.code == code and fragment in res.error.message and not records


def test_validate_only_writes_nothing():
    records, [res] = create(three_brokers(), CreatableTopic("x", 3, 2), validate_only=True)
    assert res.error.ok and res.num_partitions == 3 and records == []


def test_directory_of_single_dir_brokers():
    d = uuid.UUID(int=0xD1)
    image = make_image(broker_record(1, dirs=[d]))
    records, _ = create(image, CreatableTopic("x", 1, 1))
    assert apply(image, records).partition("x", 0).directories == (d,)


# --- DeleteTopics ------------------------------------------------------------------------------


def topics_image():
    return make_image(broker_record(1), *topic_records("a", T1, [[1], [1]]), *topic_records("b", T2, [[1]]),
                      r.ConfigRecord(resource_type=2, resource_name="a", name="retention.ms", value="1"))


def test_delete_by_name_and_id():
    image = topics_image()
    res = c.delete_topics(image, DeleteTopicsRequest(["a", "nope"], [T2, uuid.UUID(int=0xFF)]), ctx())
    codes = [(x.name, x.error.code) for x in res.response]
    assert codes == [("a", ErrorCode.NONE), ("nope", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
                     ("b", ErrorCode.NONE), (None, ErrorCode.UNKNOWN_TOPIC_ID)]
    assert res.response[0].topic_id == T1
    assert [x.topic_id for x in res.records] == [T1, T2]
    after = apply(image, res.records)
    assert not after.topics_by_name and after.topic_config("a") == {}


def test_delete_same_topic_by_name_and_id_once():
    res = c.delete_topics(topics_image(), DeleteTopicsRequest(["a"], [T1]), ctx())
    assert all(x.error.ok for x in res.response) and len(res.records) == 1


def test_delete_errors():
    image = topics_image()
    res = c.delete_topics(image, DeleteTopicsRequest(["a", "a"], [T2, T2, uuid.UUID(int=0)]), ctx())
    assert [x.error.code for x in res.response] == [ErrorCode.INVALID_REQUEST] * 5
    assert res.response[0].error.message == "Duplicate topic name."
    assert res.response[2].error.message == "Duplicate topic id."
    assert res.records == []
    res = c.delete_topics(image, DeleteTopicsRequest(["a"], [T2]), ctx(delete_topic_enable=False))
    assert [x.error.code for x in res.response] == [ErrorCode.TOPIC_DELETION_DISABLED] * 2 and not res.records


# --- CreatePartitions ---------------------------------------------------------------------------


def test_create_partitions_keeps_replication_factor():
    image = make_image(broker_record(1), broker_record(2), broker_record(3),
                       *topic_records("a", T1, [[1, 2], [2, 3]]))
    res = c.create_partitions(image, CreatePartitionsRequest([CreatePartitionsTopic("a", 5)]), ctx())
    assert res.response[0].error.ok
    after = apply(image, res.records)
    topic = after.topic("a")
    assert topic.num_partitions == 5 and all(len(p.replicas) == 2 for p in topic.partitions.values())
    assert topic.partitions[0] is image.topic("a").partitions[0]


def test_create_partitions_with_assignments_and_validate_only():
    image = make_image(broker_record(1), broker_record(2), *topic_records("a", T1, [[1, 2]]))
    req = CreatePartitionsRequest([CreatePartitionsTopic("a", 3, [[2, 1], [1, 2]])])
    res = c.create_partitions(image, req, ctx())
    after = apply(image, res.records)
    assert after.partition("a", 1).replicas == (2, 1) and after.partition("a", 2).leader == 1
    req.validate_only = True
    res = c.create_partitions(image, req, ctx())
    assert res.response[0].error.ok and res.records == []


@pytest.mark.parametrize("topic,code,message", [
    (CreatePartitionsTopic("a", 2), ErrorCode.INVALID_PARTITIONS, "Topic already has 2 partition(s)."),
    (CreatePartitionsTopic("a", 1), ErrorCode.INVALID_PARTITIONS,
     "The topic a currently has 2 partition(s); 1 would not be an increase."),
    (CreatePartitionsTopic("zz", 3), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, None),
    (CreatePartitionsTopic("a", 4, [[1]]), ErrorCode.INVALID_REPLICA_ASSIGNMENT,
     "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified."),
    (CreatePartitionsTopic("a", 3, [[1, 2]]), ErrorCode.INVALID_REPLICA_ASSIGNMENT,
     "The manual partition assignment includes a partition with 2 replica(s), but this is not consistent "
     "with previous partitions, which have 1 replica(s)."),
    (CreatePartitionsTopic("a", 3, [[7]]), ErrorCode.INVALID_REPLICA_ASSIGNMENT,
     "The manual partition assignment includes broker 7, but no such broker is registered."),
])
def test_create_partitions_errors(topic, code, message):
    image = make_image(broker_record(1), broker_record(2), *topic_records("a", T1, [[1], [2]]))
    res = c.create_partitions(image, CreatePartitionsRequest([topic]), ctx())
    assert res.response[0].error.code == code and not res.records
    if message:
        assert res.response[0].error.message == message


def test_create_partitions_duplicate_and_fenced():
    image = make_image(broker_record(1, fenced=True), *topic_records("a", T1, [[1]]))
    res = c.create_partitions(image, CreatePartitionsRequest([CreatePartitionsTopic("a", 2)]), ctx())
    assert res.response[0].error.code == ErrorCode.INVALID_REPLICATION_FACTOR
    res = c.create_partitions(image, CreatePartitionsRequest([CreatePartitionsTopic("a", 2)] * 2), ctx())
    assert [x.error.message for x in res.response] == ["Duplicate topic name."] * 2
