"""A broker process killed with -9 or stopped with SIGTERM: acknowledged records survive,
offsets continue, and an idempotent producer retrying through a restart writes each record once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

ck = pytest.importorskip("confluent_kafka")
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from broker_process import BrokerProcess  # noqa: E402


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)]).values():
        f.result(15)


def consume_values(bootstrap: str, topic: str, partitions: int, expected: int, timeout: float = 30) -> list:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < expected and time.monotonic() < deadline:
        for m in consumer.consume(1000, 0.5):
            if m.error() is None:
                out.append((m.partition(), m.offset(), m.value()))
    consumer.close()
    return out


def produce(bootstrap: str, topic: str, values: list[bytes], **config) -> list:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 2, **config})
    acked = []

    def on_delivery(err, msg):
        if err is None:
            acked.append((msg.partition(), msg.offset(), msg.value()))

    for v in values:
        producer.produce(topic, value=v, on_delivery=on_delivery)
        producer.poll(0)
    assert producer.flush(30) == 0
    return acked


def test_kill_9_keeps_every_acknowledged_record(tmp_path: Path):
    with BrokerProcess(tmp_path / "data") as broker:
        create_topic(broker.bootstrap_servers, "durable", 2)
        acked = produce(broker.bootstrap_servers, "durable", [b"v%d" % i for i in range(2000)])
        assert len(acked) == 2000
        broker.kill()
        broker.start()
        got = consume_values(broker.bootstrap_servers, "durable", 2, 2000)
        assert sorted(got) == sorted(acked)
        # Offsets continue after the restart.
        more = produce(broker.bootstrap_servers, "durable", [b"after-%d" % i for i in range(10)])
        for partition, offset, _ in more:
            # Records without keys stick to one partition per batch: a partition may be empty.
            previous = max((o for p, o, _ in acked if p == partition), default=-1)
            assert offset > previous


def test_sigterm_shuts_down_cleanly_and_restarts_fast(tmp_path: Path):
    data = tmp_path / "data"
    broker = BrokerProcess(data)
    try:
        broker.start()
        create_topic(broker.bootstrap_servers, "clean", 1)
        produce(broker.bootstrap_servers, "clean", [b"x"] * 100)
        t0 = time.monotonic()
        assert broker.stop() == 0
        assert time.monotonic() - t0 < 5
        assert (data / ".kafka_cleanshutdown").exists()
        assert (data / "recovery-point-offset-checkpoint").read_text().splitlines()[0] == "0"
        started = broker.start()
        assert started < 10
        assert len(consume_values(broker.bootstrap_servers, "clean", 1, 100)) == 100
    finally:
        broker.kill()


def test_idempotent_producer_retries_through_a_restart(tmp_path: Path):
    """No duplicates and no gaps when the broker restarts under an idempotent producer."""
    with BrokerProcess(tmp_path / "data") as broker:
        create_topic(broker.bootstrap_servers, "exactly", 1)
        total = 20_000
        errors: list = []
        delivered = [0]
        at_restart: list[int] = []
        producer = Producer({
            "bootstrap.servers": broker.bootstrap_servers,
            "enable.idempotence": True,
            "linger.ms": 5,
            "message.timeout.ms": 60_000,
            "retry.backoff.ms": 50,
            "reconnect.backoff.max.ms": 200,
        })

        def on_delivery(err, msg):
            if err is not None:
                errors.append(err)
            delivered[0] += 1

        def restart_midway():
            deadline = time.monotonic() + 30
            while delivered[0] < total // 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            at_restart.append(delivered[0])
            broker.stop()
            broker.start()

        restarter = threading.Thread(target=restart_midway)
        restarter.start()
        for i in range(total):
            while True:
                try:
                    producer.produce("exactly", value=b"%08d" % i, on_delivery=on_delivery)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
            if i % 200 == 0:
                time.sleep(0.02)  # spread the sends over the restart
        restarter.join(60)
        assert producer.flush(60) == 0
        assert errors == []
        # The restart really happened while records were still in flight.
        assert 0 < at_restart[0] < total
        got = consume_values(broker.bootstrap_servers, "exactly", 1, total)
        values = [v for _, _, v in sorted(got)]
        assert values == [b"%08d" % i for i in range(total)]
