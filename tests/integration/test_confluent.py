"""confluent-kafka (librdkafka) against a running broker: admin, idempotent producer with every
codec, consumer by assignment, offsets by time, configs, deletion."""

from __future__ import annotations

import time

import pytest

ck = pytest.importorskip("confluent_kafka")
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import (  # noqa: E402
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def wait(futures: dict, timeout: float = 15.0) -> None:
    for f in futures.values():
        f.result(timeout=timeout)


@pytest.fixture
def admin(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap_servers})


def consume(broker, topic: str, partitions: int, expected: int, timeout: float = 20.0) -> list:
    consumer = Consumer({
        "bootstrap.servers": broker.bootstrap_servers,
        "group.id": "unused-assign-only",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
    })
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < expected and time.monotonic() < deadline:
        for msg in consumer.consume(num_messages=1000, timeout=0.5):
            if msg.error() is None:
                out.append(msg)
    consumer.close()
    return out


@pytest.mark.parametrize("codec", CODECS)
def test_idempotent_produce_and_consume(broker, admin, topic_name, codec):
    wait(admin.create_topics([NewTopic(topic_name, num_partitions=3, replication_factor=1)]))
    producer = Producer({
        "bootstrap.servers": broker.bootstrap_servers,
        "compression.type": codec,
        "enable.idempotence": True,
        "linger.ms": 5,
    })
    base = int(time.time() * 1000) - 5000
    sent = []
    for i in range(500):
        key = f"k{i % 11}".encode()
        value = f"payload-{i}".encode() * (1 + i % 3)
        headers = [("seq", str(i).encode())]
        producer.produce(topic_name, value=value, key=key, headers=headers, timestamp=base + i)
        sent.append((key, value, i))
    assert producer.flush(20) == 0

    got = consume(broker, topic_name, 3, len(sent))
    assert len(got) == len(sent)
    by_value = {m.value(): m for m in got}
    for key, value, i in sent:
        m = by_value[value]
        assert m.key() == key
        assert m.headers() == [("seq", str(i).encode())]
        assert m.timestamp()[1] == base + i
    for k in {s[0] for s in sent}:
        expect = [s[1] for s in sent if s[0] == k]
        seen = [m.value() for m in sorted(got, key=lambda m: (m.partition(), m.offset())) if m.key() == k]
        assert seen == expect


def test_offsets_for_times_and_watermarks(broker, admin, topic_name):
    wait(admin.create_topics([NewTopic(topic_name, num_partitions=1, replication_factor=1)]))
    producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 50})
    base = int(time.time() * 1000) - 60_000
    for i in range(20):
        producer.produce(topic_name, value=b"x%d" % i, timestamp=base + i * 100)
    producer.flush(10)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap_servers, "group.id": "unused"})
    low, high = consumer.get_watermark_offsets(TopicPartition(topic_name, 0), timeout=10)
    assert (low, high) == (0, 20)
    [tp] = consumer.offsets_for_times([TopicPartition(topic_name, 0, base + 550)], timeout=10)
    assert tp.offset == 6
    consumer.close()


def test_configs_and_delete(broker, admin, topic_name):
    wait(admin.create_topics([NewTopic(topic_name, num_partitions=1, replication_factor=1,
                                       config={"cleanup.policy": "compact"})]))
    res = ConfigResource(ConfigResource.Type.TOPIC, topic_name)
    configs = admin.describe_configs([res])[res].result(timeout=10)
    assert configs["cleanup.policy"].value == "compact"
    assert configs["segment.bytes"].is_default

    alter = ConfigResource(ConfigResource.Type.TOPIC, topic_name, incremental_configs=[
        ConfigEntry("retention.ms", "1000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("cleanup.policy", "delete", incremental_operation=AlterConfigOpType.APPEND),
    ])
    admin.incremental_alter_configs([alter])[alter].result(timeout=10)
    configs = admin.describe_configs([res])[res].result(timeout=10)
    assert configs["retention.ms"].value == "1000"
    assert configs["cleanup.policy"].value == "compact,delete"

    bad = ConfigResource(ConfigResource.Type.TOPIC, topic_name, incremental_configs=[
        ConfigEntry("no.such.config", "1", incremental_operation=AlterConfigOpType.SET)])
    with pytest.raises(ck.KafkaException):
        admin.incremental_alter_configs([bad])[bad].result(timeout=10)

    wait(admin.delete_topics([topic_name]))
    deadline = time.monotonic() + 10
    while topic_name in admin.list_topics(timeout=5).topics and time.monotonic() < deadline:
        time.sleep(0.1)
    assert topic_name not in admin.list_topics(timeout=5).topics


def test_dynamic_broker_config_reaches_describe_and_the_logs():
    """IncrementalAlterConfigs on a broker: DescribeConfigs shows the dynamic value and its
    source, topics without an override inherit it, and their logs use it."""
    from pybroker.embedded import EmbeddedBroker

    with EmbeddedBroker() as b:
        b.create_topic("inherits")
        admin = AdminClient({"bootstrap.servers": b.bootstrap_servers})
        res = ConfigResource(ConfigResource.Type.BROKER, "1", incremental_configs=[
            ConfigEntry("log.retention.ms", "12345", incremental_operation=AlterConfigOpType.SET)])
        admin.incremental_alter_configs([res])[res].result(10)
        broker_cfg = admin.describe_configs([ConfigResource(ConfigResource.Type.BROKER, "1")])
        entry = list(broker_cfg.values())[0].result(10)["log.retention.ms"]
        assert entry.value == "12345"
        assert entry.source == ck.admin.ConfigSource.DYNAMIC_BROKER_CONFIG.value
        topic_res = ConfigResource(ConfigResource.Type.TOPIC, "inherits")
        topic_entry = admin.describe_configs([topic_res])[topic_res].result(10)["retention.ms"]
        assert topic_entry.value == "12345"
        assert b.broker.replicas.get("inherits", 0).log.config.retention_ms == 12345
        # A read-only broker config cannot change at run time.
        bad = ConfigResource(ConfigResource.Type.BROKER, "1", incremental_configs=[
            ConfigEntry("log.dirs", "/elsewhere", incremental_operation=AlterConfigOpType.SET)])
        with pytest.raises(ck.KafkaException):
            admin.incremental_alter_configs([bad])[bad].result(10)
