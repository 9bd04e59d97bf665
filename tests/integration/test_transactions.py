"""Transactions with real clients: confluent-kafka (librdkafka), kafka-python and aiokafka
transactional producers against a broker; read_committed and read_uncommitted consumers; zombie
fencing; a producer killed mid-transaction; the transaction admin APIs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ck = pytest.importorskip("confluent_kafka")
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from pybroker.embedded import EmbeddedBroker  # noqa: E402

WORKER = Path(__file__).with_name("txn_worker.py")


def create_topic(bs: str, name: str, partitions: int = 1) -> None:
    admin = AdminClient({"bootstrap.servers": bs})
    for f in admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)]).values():
        f.result(15)


def consume_all(bs: str, topic: str, partitions: int, isolation: str, *, expect: int | None = None,
                idle: float = 1.5, timeout: float = 20.0) -> list:
    """Every message of `topic` from the beginning, until `expect` are read (or nothing new for
    `idle` seconds)."""
    c = Consumer({"bootstrap.servers": bs, "group.id": "txn-tests-assign-only", "isolation.level": isolation,
                  "enable.auto.commit": False, "enable.partition.eof": False})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    out = []
    deadline = time.monotonic() + timeout
    last_new = time.monotonic()
    try:
        while time.monotonic() < deadline:
            if expect is not None and len(out) >= expect:
                break
            if expect is None and time.monotonic() - last_new > idle:
                break
            for m in c.consume(500, 0.2):
                if m.error() is None:
                    out.append(m)
                    last_new = time.monotonic()
    finally:
        c.close()
    return out


def values(msgs) -> list[bytes]:
    return sorted(m.value() for m in msgs)


def txn_producer(bs: str, txn_id: str, **extra) -> Producer:
    p = Producer({"bootstrap.servers": bs, "transactional.id": txn_id, "linger.ms": 2, **extra})
    p.init_transactions(20)
    return p


# --- confluent-kafka --------------------------------------------------------------------------------

def test_confluent_commit_and_abort(broker, topic_name):
    bs = broker.bootstrap_servers
    create_topic(bs, topic_name, 3)
    p = txn_producer(bs, f"{topic_name}-txn")
    p.begin_transaction()
    for i in range(30):
        p.produce(topic_name, key=b"%d" % i, value=b"committed-%d" % i, partition=i % 3)
    p.commit_transaction(20)
    p.begin_transaction()
    for i in range(30):
        p.produce(topic_name, key=b"%d" % i, value=b"aborted-%d" % i, partition=i % 3)
    p.flush(20)
    p.abort_transaction(20)
    # A third transaction committed after the aborted one: read_committed must skip the
    # aborted records in the middle, not stop at them.
    p.begin_transaction()
    for i in range(3):
        p.produce(topic_name, value=b"after-%d" % i, partition=i)
    p.commit_transaction(20)

    committed = [b"committed-%d" % i for i in range(30)] + [b"after-%d" % i for i in range(3)]
    rc = consume_all(bs, topic_name, 3, "read_committed", expect=33)
    assert values(rc) == sorted(committed)
    ru = consume_all(bs, topic_name, 3, "read_uncommitted", expect=63)
    assert values(ru) == sorted(committed + [b"aborted-%d" % i for i in range(30)])
    # Control records (the markers) take offsets but never reach the application.
    for m in ru:
        assert not m.value().startswith(b"\x00\x00")
    offsets = sorted((m.partition(), m.offset()) for m in ru)
    for part in range(3):
        seen = [o for p_, o in offsets if p_ == part]
        # 10 committed (0-9), COMMIT at 10, 10 aborted (11-20), ABORT at 21, 1 more (22)
        assert seen == [*range(10), *range(11, 21), 22]


def test_confluent_zombie_fencing(broker, topic_name):
    bs = broker.bootstrap_servers
    create_topic(bs, topic_name)
    txn_id = f"{topic_name}-txn"
    zombie = txn_producer(bs, txn_id)
    zombie.begin_transaction()
    zombie.produce(topic_name, value=b"zombie-1")
    zombie.flush(10)
    fresh = txn_producer(bs, txn_id)  # fences the zombie and aborts its transaction
    fresh.begin_transaction()
    fresh.produce(topic_name, value=b"fresh")
    fresh.commit_transaction(20)
    with pytest.raises(KafkaException) as err:
        zombie.produce(topic_name, value=b"zombie-2")
        zombie.flush(10)
        zombie.commit_transaction(10)
    e: KafkaError = err.value.args[0]
    assert e.fatal() or e.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH)
    assert values(consume_all(bs, topic_name, 1, "read_committed", expect=1)) == [b"fresh"]
    assert b"zombie-2" not in values(consume_all(bs, topic_name, 1, "read_uncommitted"))


def test_killed_producer_is_aborted_after_its_timeout(tmp_path):
    with EmbeddedBroker(tmp_path / "data", config={
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": 200,
        "transaction.state.log.num.partitions": 4,
    }) as b:
        bs = b.bootstrap_servers
        create_topic(bs, "t")
        proc = subprocess.Popen([sys.executable, str(WORKER), "open", f"bs={bs}", "txn_id=doomed", "topic=t",
                                 "count=5", "timeout=2000"], stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            assert proc.stdout.readline().strip() == "OPEN"
        finally:
            proc.kill()
            proc.wait(10)
        killed_at = time.monotonic()
        after = Producer({"bootstrap.servers": bs})
        after.produce("t", value=b"after-the-dead-producer")
        after.flush(10)
        # read_committed consumers are held at the open transaction until it is aborted...
        rc = consume_all(bs, "t", 1, "read_committed", expect=1, timeout=20)
        waited = time.monotonic() - killed_at
        assert values(rc) == [b"after-the-dead-producer"]
        assert 1.0 < waited < 15
        ru = consume_all(bs, "t", 1, "read_uncommitted", expect=6)
        assert len(ru) == 6
        # ...and the transactional id can be used again.
        p = txn_producer(bs, "doomed")
        p.begin_transaction()
        p.produce("t", value=b"reborn")
        p.commit_transaction(20)
        assert b"reborn" in values(consume_all(bs, "t", 1, "read_committed", expect=2))


# --- kafka-python -----------------------------------------------------------------------------------

def test_kafka_python_transactions(broker, topic_name):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition as KTP

    bs = broker.bootstrap_servers
    create_topic(bs, topic_name, 2)
    p = KafkaProducer(bootstrap_servers=bs, transactional_id=f"{topic_name}-kp")
    p.init_transactions()
    p.begin_transaction()
    for i in range(10):
        p.send(topic_name, value=b"kp-commit-%d" % i, partition=i % 2)
    p.commit_transaction()
    p.begin_transaction()
    for i in range(10):
        p.send(topic_name, value=b"kp-abort-%d" % i, partition=i % 2)
    p.flush()
    p.abort_transaction()
    p.begin_transaction()
    p.send(topic_name, value=b"kp-last", partition=0)
    p.commit_transaction()
    p.close()

    def read(isolation: str, expect: int) -> list[bytes]:
        c = KafkaConsumer(bootstrap_servers=bs, isolation_level=isolation, enable_auto_commit=False,
                          consumer_timeout_ms=3000)
        c.assign([KTP(topic_name, 0), KTP(topic_name, 1)])
        c.seek_to_beginning()
        out = []
        deadline = time.monotonic() + 20
        while len(out) < expect and time.monotonic() < deadline:
            for recs in c.poll(500).values():
                out.extend(r.value for r in recs)
        c.close()
        return sorted(out)

    assert read("read_committed", 11) == sorted([b"kp-commit-%d" % i for i in range(10)] + [b"kp-last"])
    assert len(read("read_uncommitted", 21)) == 21
    # confluent-kafka reads what kafka-python wrote the same way
    assert len(consume_all(bs, topic_name, 2, "read_committed", expect=11)) == 11


def test_kafka_python_send_offsets_to_transaction(broker, topic_name):
    """Consume-transform-produce with kafka-python: offsets committed in the transaction are
    visible to the group only once it commits."""
    from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition as KTP

    bs = broker.bootstrap_servers
    src, dst, group = f"{topic_name}-in", f"{topic_name}-out", f"{topic_name}-g"
    create_topic(bs, src)
    create_topic(bs, dst)
    seed = Producer({"bootstrap.servers": bs})
    for i in range(20):
        seed.produce(src, value=b"in-%d" % i)
    seed.flush(10)
    consumer = KafkaConsumer(src, bootstrap_servers=bs, group_id=group, enable_auto_commit=False,
                             auto_offset_reset="earliest", isolation_level="read_committed")
    producer = KafkaProducer(bootstrap_servers=bs, transactional_id=f"{topic_name}-kp-eos")
    producer.init_transactions()
    tp = KTP(src, 0)
    try:
        got = []
        deadline = time.monotonic() + 20
        while len(got) < 20 and time.monotonic() < deadline:
            for recs in consumer.poll(500).values():
                got.extend(recs)
        assert len(got) == 20
        # an aborted round: the output and the offsets are both discarded
        producer.begin_transaction()
        producer.send(dst, b"discarded")
        producer.send_offsets_to_transaction({tp: OffsetAndMetadata(10, "", -1)}, consumer.group_metadata())
        producer.abort_transaction()
        assert consumer.committed(tp) is None
        producer.begin_transaction()
        for r in got:
            producer.send(dst, r.value.upper())
        producer.send_offsets_to_transaction({tp: OffsetAndMetadata(got[-1].offset + 1, "", -1)},
                                             consumer.group_metadata())
        producer.commit_transaction()
        assert consumer.committed(tp) == 20
    finally:
        producer.close()
        consumer.close()
    assert values(consume_all(bs, dst, 1, "read_committed", expect=20)) == sorted(b"IN-%d" % i for i in range(20))


def test_kafka_python_admin_describes_transactions_and_producers(broker, topic_name):
    from kafka import KafkaAdminClient, TopicPartition as KTP

    bs = broker.bootstrap_servers
    create_topic(bs, topic_name, 2)
    txn_id = f"{topic_name}-adm"
    p = txn_producer(bs, txn_id)
    p.begin_transaction()
    p.produce(topic_name, value=b"x", partition=1)
    p.flush(10)
    admin = KafkaAdminClient(bootstrap_servers=bs)
    try:
        d = admin.describe_transactions([txn_id])[txn_id]
        assert d.state.value == "Ongoing"
        assert [(tp.topic, tp.partition) for tp in d.topic_partitions] == [(topic_name, 1)]
        assert d.transaction_timeout_ms == 60000 and d.transaction_start_time_ms > 0

        def listed(**filters) -> dict[str, str]:
            return {t.transactional_id: t.state.value
                    for ts in admin.list_transactions(**filters).values() for t in ts}

        assert listed(state_filters=["Ongoing"]).get(txn_id) == "Ongoing"
        assert txn_id not in listed(state_filters=["CompleteCommit"])
        assert txn_id in listed(transactional_id_pattern=f"{topic_name}-.*")
        assert txn_id not in listed(transactional_id_pattern="nothing-.*")
        assert txn_id in listed(producer_id_filters=[d.producer_id])
        [state] = admin.describe_producers([KTP(topic_name, 1)])[KTP(topic_name, 1)].active_producers
        assert (state.producer_id, state.current_transaction_start_offset) == (d.producer_id, 0)
        p.commit_transaction(20)
        d = admin.describe_transactions([txn_id])[txn_id]
        assert d.state.value == "CompleteCommit" and not d.topic_partitions
        [state] = admin.describe_producers([KTP(topic_name, 1)])[KTP(topic_name, 1)].active_producers
        assert state.current_transaction_start_offset == -1
    finally:
        admin.close()


def test_kafka_python_admin_aborts_a_hanging_transaction(broker, topic_name):
    """Admin abort (WriteTxnMarkers to the partition leader) of a transaction whose producer died
    and whose coordinator would wait a minute: read_committed consumers move on at once."""
    from kafka import KafkaAdminClient, TopicPartition as KTP
    from kafka.admin import AbortTransactionSpec

    bs = broker.bootstrap_servers
    create_topic(bs, topic_name)
    proc = subprocess.Popen([sys.executable, str(WORKER), "open", f"bs={bs}", f"txn_id={topic_name}-hang",
                             f"topic={topic_name}", "count=3"], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout.readline().strip() == "OPEN"
    finally:
        proc.kill()
        proc.wait(10)
    after = Producer({"bootstrap.servers": bs})
    after.produce(topic_name, value=b"behind-the-hanging-one")
    after.flush(10)
    assert consume_all(bs, topic_name, 1, "read_committed", idle=1.0) == []
    admin = KafkaAdminClient(bootstrap_servers=bs)
    try:
        tp = KTP(topic_name, 0)
        [state] = admin.describe_producers([tp])[tp].active_producers[:1]
        assert state.current_transaction_start_offset == 0
        admin.abort_transaction(AbortTransactionSpec(tp, state.producer_id, state.producer_epoch,
                                                     state.coordinator_epoch))
        assert values(consume_all(bs, topic_name, 1, "read_committed", expect=1)) == [b"behind-the-hanging-one"]
        states = admin.describe_producers([tp])[tp].active_producers
        assert all(s.current_transaction_start_offset == -1 for s in states)
    finally:
        admin.close()


# --- aiokafka -----------------------------------------------------------------------------------------

def test_aiokafka_transactions(broker, topic_name):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition as ATP

    bs = broker.bootstrap_servers
    create_topic(bs, topic_name)

    async def scenario() -> tuple[list[bytes], list[bytes]]:
        p = AIOKafkaProducer(bootstrap_servers=bs, transactional_id=f"{topic_name}-aio")
        await p.start()
        try:
            async with p.transaction():
                for i in range(5):
                    await p.send(topic_name, b"aio-commit-%d" % i)
            await p.begin_transaction()
            for i in range(5):
                await p.send(topic_name, b"aio-abort-%d" % i)
            await p.abort_transaction()
            async with p.transaction():
                await p.send(topic_name, b"aio-last")
        finally:
            await p.stop()

        async def read(isolation: str, expect: int) -> list[bytes]:
            c = AIOKafkaConsumer(bootstrap_servers=bs, isolation_level=isolation, enable_auto_commit=False,
                                 auto_offset_reset="earliest")
            await c.start()
            try:
                c.assign([ATP(topic_name, 0)])
                await c.seek_to_beginning()
                out: list[bytes] = []
                deadline = time.monotonic() + 20
                while len(out) < expect and time.monotonic() < deadline:
                    for recs in (await c.getmany(timeout_ms=500)).values():
                        out.extend(r.value for r in recs)
                return sorted(out)
            finally:
                await c.stop()

        return await read("read_committed", 6), await read("read_uncommitted", 11)

    committed, everything = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert committed == sorted([b"aio-commit-%d" % i for i in range(5)] + [b"aio-last"])
    assert len(everything) == 11


def test_aiokafka_send_offsets_to_transaction(broker, topic_name):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition as ATP

    bs = broker.bootstrap_servers
    src, dst, group = f"{topic_name}-in", f"{topic_name}-out", f"{topic_name}-g"
    create_topic(bs, src)
    create_topic(bs, dst)
    seed = Producer({"bootstrap.servers": bs})
    for i in range(10):
        seed.produce(src, value=b"a-%d" % i)
    seed.flush(10)

    async def scenario() -> int | None:
        consumer = AIOKafkaConsumer(src, bootstrap_servers=bs, group_id=group, enable_auto_commit=False,
                                    auto_offset_reset="earliest", isolation_level="read_committed")
        producer = AIOKafkaProducer(bootstrap_servers=bs, transactional_id=f"{topic_name}-aio-eos")
        await consumer.start()
        await producer.start()
        try:
            got = []
            deadline = time.monotonic() + 20
            while len(got) < 10 and time.monotonic() < deadline:
                for recs in (await consumer.getmany(timeout_ms=500)).values():
                    got.extend(recs)
            async with producer.transaction():
                for r in got:
                    await producer.send(dst, r.value.upper())
                await producer.send_offsets_to_transaction({ATP(src, 0): got[-1].offset + 1}, group)
            return await consumer.committed(ATP(src, 0))
        finally:
            await producer.stop()
            await consumer.stop()

    assert asyncio.run(asyncio.wait_for(scenario(), 60)) == 10
    assert values(consume_all(bs, dst, 1, "read_committed", expect=10)) == sorted(b"A-%d" % i for i in range(10))
