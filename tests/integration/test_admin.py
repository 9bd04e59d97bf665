"""Admin APIs through kafka-python's admin client: cluster, log dirs, partitions, records,
offsets, features and paginated topic descriptions."""

from __future__ import annotations

import pytest

kafka = pytest.importorskip("kafka")
from kafka import KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient, NewPartitions, NewTopic  # noqa: E402


@pytest.fixture
def admin(broker):
    client = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    yield client
    client.close()


def produce(broker, topic, n, partition=0):
    p = KafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    for i in range(n):
        p.send(topic, b"v%d" % i, partition=partition)
    p.flush()
    p.close()


def test_describe_cluster_and_features(broker, admin):
    cluster = admin.describe_cluster()
    assert cluster["cluster_id"] == broker.broker.cluster_id
    assert [b["broker_id"] for b in cluster["brokers"]] == [1]
    assert cluster["brokers"][0]["port"] == broker.port
    features = admin.describe_features()
    assert features["metadata.version"]["finalized"][0] >= 7


def test_partitions_records_offsets_and_log_dirs(broker, admin, topic_name):
    admin.create_topics([NewTopic(topic_name, 2, 1)])
    produce(broker, topic_name, 10)
    admin.create_partitions({topic_name: NewPartitions(5)})
    described = admin.describe_topic_partitions([topic_name], response_partition_limit=2)
    assert [p["partition_index"] for p in described["topics"][0]["partitions"]] == [0, 1]
    assert described["next_cursor"]["partition_index"] == 2

    tp = TopicPartition(topic_name, 0)
    result = admin.delete_records({tp: 4})
    assert result[tp]["low_watermark"] == 4 and result[tp]["error_code"] == 0
    assert admin.list_partition_offsets({tp: -2})[tp].offset == 4
    assert admin.list_partition_offsets({tp: -1})[tp].offset == 10

    dirs = admin.describe_log_dirs()
    partitions = {
        (t["name"], p["partition_index"]): p["partition_size"]
        for d in dirs[0]["log_dirs"] for t in d["topics"] for p in t["partitions"]
    }
    assert partitions[(topic_name, 0)] > 0
    assert (topic_name, 4) in partitions


def test_delete_records_beyond_high_watermark_is_out_of_range(broker, admin, topic_name):
    admin.create_topics([NewTopic(topic_name, 1, 1)])
    produce(broker, topic_name, 3)
    tp = TopicPartition(topic_name, 0)
    with pytest.raises(Exception):
        admin.delete_records({tp: 50})


def test_invalid_topic_requests(broker, admin, topic_name):
    from kafka.errors import InvalidPartitionsError, InvalidTopicError, TopicAlreadyExistsError

    admin.create_topics([NewTopic(topic_name, 3, 1)])
    with pytest.raises(TopicAlreadyExistsError):
        admin.create_topics([NewTopic(topic_name, 3, 1)])
    with pytest.raises(InvalidTopicError):
        admin.create_topics([NewTopic("bad/name", 1, 1)])
    with pytest.raises(InvalidPartitionsError):
        admin.create_partitions({topic_name: NewPartitions(2)})


def test_delete_topic_by_id(broker, admin, topic_name):
    import uuid

    from protocol.errors import ErrorCode
    from protocol.messages import DeleteTopicsRequest
    from pybroker.tools.client import Cluster

    admin.create_topics([NewTopic(topic_name, 1, 1)])
    topic_id = broker.broker.image.topic(topic_name).topic_id
    with Cluster(broker.bootstrap_servers) as cluster:
        conn = cluster.any_connection()
        T = DeleteTopicsRequest.DeleteTopicState
        response = conn.request(20, DeleteTopicsRequest(
            topics=[T(name=None, topic_id=topic_id), T(name=None, topic_id=uuid.uuid4())], timeout_ms=10000),
            version=6)
    by_id = {r.topic_id: r for r in response.responses}
    assert by_id[topic_id].error_code == ErrorCode.NONE and by_id[topic_id].name == topic_name
    assert [r.error_code for r in response.responses if r.topic_id != topic_id] == [ErrorCode.UNKNOWN_TOPIC_ID]
    assert broker.broker.image.topic(topic_name) is None
