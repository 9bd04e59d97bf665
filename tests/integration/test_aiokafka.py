"""aiokafka against a running broker: admin, every codec, keys, headers, timestamps,
offsets by time, configs, deletion."""

from __future__ import annotations

import asyncio
import time

import pytest

aiokafka = pytest.importorskip("aiokafka")
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # noqa: E402
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: E402
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType  # noqa: E402

CODECS = [None, "gzip", "snappy", "lz4", "zstd"]


def run(coro, timeout: float = 60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def _admin(broker):
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    await admin.start()
    return admin


async def _consume(broker, topic, partitions, expected, timeout=20.0):
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < expected and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(batch)
        return out
    finally:
        await consumer.stop()


@pytest.mark.parametrize("codec", CODECS)
def test_produce_and_consume(broker, topic_name, codec):
    async def scenario():
        admin = await _admin(broker)
        await admin.create_topics([NewTopic(topic_name, num_partitions=2, replication_factor=1)])
        await admin.close()
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, compression_type=codec,
                                    linger_ms=5, acks="all", enable_idempotence=True)
        await producer.start()
        base = int(time.time() * 1000) - 1000
        sent = []
        try:
            futures = []
            for i in range(200):
                key = f"k{i % 5}".encode()
                value = f"v{i}".encode() * (1 + i % 4)
                headers = [("n", str(i).encode())]
                futures.append(await producer.send(topic_name, value=value, key=key, headers=headers,
                                                   timestamp_ms=base + i))
                sent.append((key, value, headers, base + i))
            await asyncio.gather(*futures)
        finally:
            await producer.stop()
        got = await _consume(broker, topic_name, 2, len(sent))
        assert len(got) == len(sent)
        by_value = {m.value: m for m in got}
        for key, value, headers, ts in sent:
            m = by_value[value]
            assert m.key == key
            assert list(m.headers) == headers
            assert m.timestamp == ts
        for k in {s[0] for s in sent}:
            expect = [s[1] for s in sent if s[0] == k]
            seen = [m.value for m in sorted(got, key=lambda m: (m.partition, m.offset)) if m.key == k]
            assert seen == expect

    run(scenario())


def test_offsets_configs_and_delete(broker, topic_name):
    async def scenario():
        admin = await _admin(broker)
        try:
            await admin.create_topics([NewTopic(topic_name, num_partitions=1, replication_factor=1)])
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=10)
            await producer.start()
            base = int(time.time() * 1000) - 30_000
            for i in range(10):
                await producer.send(topic_name, value=b"%d" % i, timestamp_ms=base + i * 10)
            await producer.flush()
            await producer.stop()

            consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap_servers)
            await consumer.start()
            tp = TopicPartition(topic_name, 0)
            found = await consumer.offsets_for_times({tp: base + 35})
            assert found[tp].offset == 4
            assert (await consumer.end_offsets([tp]))[tp] == 10
            await consumer.stop()

            resource = ConfigResource(ConfigResourceType.TOPIC, topic_name, {"retention.bytes": "1048576"})
            await admin.alter_configs([resource])
            described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic_name)])
            configs = {c[0]: c[1] for c in described[0].resources[0][4]}
            assert configs["retention.bytes"] == "1048576"

            await admin.delete_topics([topic_name])
            deadline = time.monotonic() + 10
            while topic_name in await admin.list_topics() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert topic_name not in await admin.list_topics()
        finally:
            await admin.close()

    run(scenario())
