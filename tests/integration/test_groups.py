"""Consumer groups with real clients: members joining and leaving, cooperative rebalances,
the KIP-848 consumer protocol, static membership, session timeouts, committed offsets across
consumer and broker restarts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import pytest

from group_scenario import PARTITIONS, run_join_leave_scenario, wait_until

ck = pytest.importorskip("confluent_kafka")
from confluent_kafka import Consumer, KafkaException, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def create_topic(bootstrap: str, topic: str, partitions: int = PARTITIONS) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).values():
        f.result(15)


def producer_for(bootstrap: str, topic: str):
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2})

    def produce(values: list[bytes]) -> None:
        for i, v in enumerate(values):
            producer.produce(topic, v, partition=i % PARTITIONS)
        assert producer.flush(15) == 0

    return produce


# --- confluent-kafka ------------------------------------------------------------------------------

class ConfluentMember:
    def __init__(self, name: str, bootstrap: str, group: str, topic: str, **config) -> None:
        self.name = name
        self.cooperative = config.get("partition.assignment.strategy") == "cooperative-sticky"
        self._assignment: set[int] = set()
        self.assigned_events = 0
        self.revoked_events = 0
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", **config,
        })
        self.consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)

    def _commit(self) -> None:
        try:
            self.consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if exc.args[0].code() != ck.KafkaError._NO_OFFSET:
                raise

    def _on_assign(self, consumer, partitions) -> None:
        self.assigned_events += 1

    def _on_revoke(self, consumer, partitions) -> None:
        self.revoked_events += 1
        self._commit()  # hand over exactly where this member stopped

    def poll(self) -> list[tuple[int, int, bytes]]:
        out = []
        for m in self.consumer.consume(500, 0.2):
            if m.error() is None:
                out.append((m.partition(), m.offset(), m.value()))
        if out:
            self._commit()
        self._assignment = {p.partition for p in self.consumer.assignment()}
        return out

    def assignment(self) -> set[int]:
        return self._assignment

    def close(self) -> None:
        if self.cooperative:
            # Give the partitions up in poll() first: librdkafka can hang forever when close()
            # itself has to run a cooperative revocation (confluentinc/librdkafka#4041).
            self.consumer.unsubscribe()
            deadline = time.monotonic() + 10
            while self.consumer.assignment() and time.monotonic() < deadline:
                self.consumer.consume(10, 0.1)
        self.consumer.close()


CLASSIC = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 200}


@pytest.mark.parametrize("strategy", ["range", "roundrobin", "cooperative-sticky"])
def test_confluent_join_and_leave(broker, topic_name, strategy):
    create_topic(broker.bootstrap_servers, topic_name)
    group = f"g-{uuid.uuid4().hex[:8]}"
    run_join_leave_scenario(
        lambda name: ConfluentMember(name, broker.bootstrap_servers, group, topic_name,
                                     **CLASSIC, **{"partition.assignment.strategy": strategy}),
        producer_for(broker.bootstrap_servers, topic_name),
    )


def test_confluent_consumer_protocol_join_and_leave(broker, topic_name):
    """KIP-848: the broker assigns; members reconcile through ConsumerGroupHeartbeat."""
    create_topic(broker.bootstrap_servers, topic_name)
    group = f"g-{uuid.uuid4().hex[:8]}"
    run_join_leave_scenario(
        lambda name: ConfluentMember(name, broker.bootstrap_servers, group, topic_name,
                                     **{"group.protocol": "consumer"}),
        producer_for(broker.bootstrap_servers, topic_name),
    )
    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    described = admin.describe_consumer_groups([group])[group].result(10)
    assert described.type == ck.ConsumerGroupType.CONSUMER


def test_cooperative_sticky_keeps_unaffected_partitions(broker, topic_name):
    create_topic(broker.bootstrap_servers, topic_name)
    group = f"g-{uuid.uuid4().hex[:8]}"
    produce = producer_for(broker.bootstrap_servers, topic_name)
    config = dict(CLASSIC, **{"partition.assignment.strategy": "cooperative-sticky"})
    a = ConfluentMember("a", broker.bootstrap_servers, group, topic_name, **config)
    b = None
    try:
        wait_until(lambda: (a.poll(), len(a.assignment()) == PARTITIONS)[1], 30, "a to own every partition")
        before = set(a.assignment())
        revoked_before = a.revoked_events
        b = ConfluentMember("b", broker.bootstrap_servers, group, topic_name, **config)
        wait_until(lambda: (a.poll(), b.poll(), len(a.assignment()) + len(b.assignment()) == PARTITIONS
                            and b.assignment())[2], 30, "b to get its share")
        kept = a.assignment()
        # Incremental: a gave up only what b took, never everything at once.
        assert kept <= before and kept | b.assignment() == before
        assert a.revoked_events == revoked_before + 1
        produce([b"after"] * 12)
    finally:
        a.close()
        if b is not None:
            b.close()


def test_committed_offsets_survive_consumer_restarts(broker, topic_name):
    create_topic(broker.bootstrap_servers, topic_name)
    group = f"g-{uuid.uuid4().hex[:8]}"
    produce = producer_for(broker.bootstrap_servers, topic_name)
    produce([b"first-%d" % i for i in range(60)])
    m = ConfluentMember("a", broker.bootstrap_servers, group, topic_name, **CLASSIC)
    seen = []
    wait_until(lambda: (seen.extend(m.poll()), len(seen) >= 60)[1], 30, "the first 60 records")
    m.close()
    produce([b"second-%d" % i for i in range(30)])
    m = ConfluentMember("b", broker.bootstrap_servers, group, topic_name, **CLASSIC)
    again = []
    wait_until(lambda: (again.extend(m.poll()), len(again) >= 30)[1], 30, "the next 30 records")
    time.sleep(0.5)
    again.extend(m.poll())
    m.close()
    assert sorted(v for _, _, v in again) == sorted(b"second-%d" % i for i in range(30))


def test_static_member_restart_does_not_rebalance(broker, topic_name):
    create_topic(broker.bootstrap_servers, topic_name)
    group = f"g-{uuid.uuid4().hex[:8]}"
    config = dict(CLASSIC, **{"session.timeout.ms": 10000})
    a = ConfluentMember("a", broker.bootstrap_servers, group, topic_name, **config, **{"group.instance.id": "a"})
    b = ConfluentMember("b", broker.bootstrap_servers, group, topic_name, **config, **{"group.instance.id": "b"})
    try:
        wait_until(lambda: (a.poll(), b.poll(), len(a.assignment()) + len(b.assignment()) == PARTITIONS
                            and a.assignment() and b.assignment())[2], 30, "a and b to share the topic")
        b_owns = set(b.assignment())
        events = (a.assigned_events, a.revoked_events)
        b.close()  # a static member's close does not leave the group
        b = ConfluentMember("b2", broker.bootstrap_servers, group, topic_name, **config, **{"group.instance.id": "b"})
        wait_until(lambda: (a.poll(), b.poll(), b.assignment())[2], 30, "b to come back")
        for _ in range(10):
            a.poll()
            b.poll()
        assert b.assignment() == b_owns
        assert (a.assigned_events, a.revoked_events) == events, "a was rebalanced"
    finally:
        a.close()
        b.close()


def test_member_that_stops_heartbeating_is_removed(broker, topic_name, tmp_path):
    """A member killed without leaving loses its partitions after its session timeout."""
    create_topic(broker.bootstrap_servers, topic_name)
    group = f"g-{uuid.uuid4().hex[:8]}"
    script = tmp_path / "member.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        from confluent_kafka import Consumer
        c = Consumer({{"bootstrap.servers": "{broker.bootstrap_servers}", "group.id": "{group}",
                      "session.timeout.ms": 6000, "heartbeat.interval.ms": 200}})
        c.subscribe(["{topic_name}"])
        while True:
            c.poll(0.2)
            if c.assignment():
                print("assigned", flush=True)
    """))
    a = ConfluentMember("a", broker.bootstrap_servers, group, topic_name, **CLASSIC)
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(child.stdout), daemon=True)
    reader.start()
    try:
        # a keeps polling: the rebalance that lets the child in needs every member.
        wait_until(lambda: (a.poll(), "assigned\n" in lines)[1], 30, "the child to be assigned")
        wait_until(lambda: (a.poll(), 0 < len(a.assignment()) < PARTITIONS)[1], 30, "the partitions to be shared")
        child.kill()
        child.wait(10)
        t0 = time.monotonic()
        wait_until(lambda: (a.poll(), len(a.assignment()) == PARTITIONS)[1], 30, "a to take every partition")
        assert time.monotonic() - t0 < 15
    finally:
        child.kill()
        a.close()


# --- kafka-python ------------------------------------------------------------------------------------

class KafkaPythonMember:
    def __init__(self, name: str, bootstrap: str, group: str, topic: str) -> None:
        from kafka import KafkaConsumer

        self.name = name
        # Every poll's records are committed before the next poll, where rebalances happen:
        # no listener is needed to hand partitions over at the right offset.
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
            auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=200,
        )
        self.consumer.subscribe([topic])

    def poll(self):
        out = [(r.partition, r.offset, r.value) for batch in self.consumer.poll(timeout_ms=200).values() for r in batch]
        if out:
            self.consumer.commit()
        return out

    def assignment(self):
        return {tp.partition for tp in self.consumer.assignment()}

    def close(self):
        self.consumer.close()


def test_kafka_python_join_and_leave(broker, topic_name):
    pytest.importorskip("kafka")
    create_topic(broker.bootstrap_servers, topic_name)
    group = f"g-{uuid.uuid4().hex[:8]}"
    run_join_leave_scenario(
        lambda name: KafkaPythonMember(name, broker.bootstrap_servers, group, topic_name),
        producer_for(broker.bootstrap_servers, topic_name),
    )


# --- aiokafka ----------------------------------------------------------------------------------------

class AiokafkaMember:
    """An aiokafka consumer on a loop of its own, driven from the member's thread."""

    def __init__(self, name: str, bootstrap: str, group: str, topic: str) -> None:
        from aiokafka import AIOKafkaConsumer
        from aiokafka.abc import ConsumerRebalanceListener

        self.name = name
        self.loop = asyncio.new_event_loop()
        self._assignment: set[int] = set()

        async def make():
            consumer = AIOKafkaConsumer(
                bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=200,
            )

            class Listener(ConsumerRebalanceListener):
                async def on_partitions_revoked(self, revoked):
                    if revoked:
                        await consumer.commit()

                async def on_partitions_assigned(self, assigned):
                    pass

            consumer.subscribe([topic], listener=Listener())
            await consumer.start()
            return consumer

        self.consumer = self.loop.run_until_complete(make())

    def poll(self):
        async def once():
            batches = await self.consumer.getmany(timeout_ms=200)
            out = [(r.partition, r.offset, r.value) for batch in batches.values() for r in batch]
            if out:
                await self.consumer.commit()
            return out

        out = self.loop.run_until_complete(once())
        self._assignment = {tp.partition for tp in self.consumer.assignment()}
        return out

    def assignment(self):
        return self._assignment

    def close(self):
        self.loop.run_until_complete(self.consumer.stop())
        self.loop.close()


def test_aiokafka_join_and_leave(broker, topic_name):
    pytest.importorskip("aiokafka")
    create_topic(broker.bootstrap_servers, topic_name)
    group = f"g-{uuid.uuid4().hex[:8]}"
    run_join_leave_scenario(
        lambda name: AiokafkaMember(name, broker.bootstrap_servers, group, topic_name),
        producer_for(broker.bootstrap_servers, topic_name),
    )


def test_group_offsets_survive_broker_kill_9(tmp_path):
    """kill -9 the broker under an active group: committed offsets are all there afterwards and
    the members carry on without losing a record."""
    from broker_process import BrokerProcess

    with BrokerProcess(tmp_path / "data") as bp:
        topic, group = "orders", "survivors"
        create_topic(bp.bootstrap_servers, topic)
        produce = producer_for(bp.bootstrap_servers, topic)
        values = [b"v-%05d" % i for i in range(1200)]
        produce(values[:600])
        member = ConfluentMember("a", bp.bootstrap_servers, group, topic, **CLASSIC)
        seen: list = []
        wait_until(lambda: (seen.extend(member.poll()), len(seen) >= 600)[1], 30, "600 records")
        committed_before = {
            tp.partition: tp.offset
            for tp in member.consumer.committed([ck.TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10)
        }
        assert sum(committed_before.values()) == 600
        bp.kill()
        bp.start()
        after = {
            tp.partition: tp.offset
            for tp in member.consumer.committed([ck.TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=30)
        }
        assert after == committed_before
        produce(values[600:])
        wait_until(lambda: (seen.extend(member.poll()), len({v for _, _, v in seen}) >= 1200)[1], 60,
                   "the rest after the restart")
        member.close()
        assert {v for _, _, v in seen} == set(values)
