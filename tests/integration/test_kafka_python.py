"""kafka-python against a running broker: topics, every codec, keys, headers, timestamps,
offsets by time, topic configs, deletion."""

from __future__ import annotations

import time

import pytest

kafka = pytest.importorskip("kafka")
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic  # noqa: E402

CODECS = [None, "gzip", "snappy", "lz4", "zstd"]


@pytest.fixture
def admin(broker):
    client = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers, request_timeout_ms=10000)
    yield client
    client.close()


def consume_all(broker, topic: str, partitions: int, expected: int, timeout: float = 20.0) -> list:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap_servers, group_id=None,
                             enable_auto_commit=False, consumer_timeout_ms=1000)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < expected and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            out.extend(batch)
    consumer.close()
    return out


@pytest.mark.parametrize("codec", CODECS)
def test_produce_and_consume_with_every_codec(broker, admin, topic_name, codec):
    admin.create_topics([NewTopic(topic_name, num_partitions=3, replication_factor=1)])
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, compression_type=codec,
                             linger_ms=5, acks="all")
    base = int(time.time() * 1000) - 10_000
    sent = []
    for i in range(300):
        key = f"key-{i % 7}".encode()
        value = f"value-{i}".encode() * (1 + i % 5)
        headers = [("h1", f"{i}".encode()), ("empty", b"")]
        ts = base + i
        producer.send(topic_name, key=key, value=value, headers=headers, timestamp_ms=ts)
        sent.append((key, value, headers, ts))
    producer.flush(timeout=20)
    producer.close()

    got = consume_all(broker, topic_name, 3, len(sent))
    assert len(got) == len(sent)
    by_value = {r.value: r for r in got}
    for key, value, headers, ts in sent:
        r = by_value[value]
        assert r.key == key
        assert [(k, bytes(v)) for k, v in r.headers] == headers
        assert r.timestamp == ts
    # Per key, the order of production is kept (keys map to one partition each).
    for k in {s[0] for s in sent}:
        order_sent = [s[1] for s in sent if s[0] == k]
        order_got = [r.value for r in sorted(got, key=lambda r: (r.partition, r.offset)) if r.key == k]
        assert order_got == order_sent
    # Offsets in each partition are dense from 0.
    for p in range(3):
        offsets = sorted(r.offset for r in got if r.partition == p)
        assert offsets == list(range(len(offsets)))


def test_offsets_for_times(broker, admin, topic_name):
    admin.create_topics([NewTopic(topic_name, num_partitions=1, replication_factor=1)])
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=20)
    base = int(time.time() * 1000) - 100_000
    for i in range(50):
        producer.send(topic_name, value=b"v%d" % i, timestamp_ms=base + i * 1000)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap_servers, group_id=None)
    tp = TopicPartition(topic_name, 0)
    found = consumer.offsets_for_times({tp: base + 20_500})
    assert found[tp].offset == 21
    assert found[tp].timestamp == base + 21_000
    assert consumer.offsets_for_times({tp: base + 1_000_000})[tp] is None
    assert consumer.beginning_offsets([tp])[tp] == 0
    assert consumer.end_offsets([tp])[tp] == 50
    consumer.close()


def test_describe_alter_and_delete_topic(broker, admin, topic_name):
    admin.create_topics([NewTopic(topic_name, num_partitions=2, replication_factor=1,
                                  topic_configs={"retention.ms": "3600000"})])
    resource = ConfigResource(ConfigResourceType.TOPIC, topic_name)
    configs = admin.describe_configs([resource], config_filter="all")["topic"][topic_name]
    assert configs["retention.ms"]["value"] == "3600000"
    assert configs["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
    assert configs["cleanup.policy"]["value"] == "delete"
    assert configs["cleanup.policy"]["config_source"] == "DEFAULT_CONFIG"

    result = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic_name,
                                                 configs={"retention.ms": "7200000", "max.message.bytes": "2000000"})])
    assert result == {"topic": {topic_name: "OK"}}
    modified = admin.describe_configs([resource])["topic"][topic_name]
    assert {k: v["value"] for k, v in modified.items()} == {"retention.ms": "7200000", "max.message.bytes": "2000000"}

    assert topic_name in admin.list_topics()
    admin.delete_topics([topic_name])
    deadline = time.monotonic() + 10
    while topic_name in admin.list_topics() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert topic_name not in admin.list_topics()
