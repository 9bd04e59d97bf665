"""Embedding: EmbeddedBroker in sync and async use, topic helpers, kept data directories, no
side effects on the host program, many brokers side by side, and the pytest plugin."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import pybroker
from pybroker.embedded import EmbeddedBroker, TopicError


def produce_and_consume(bootstrap: str, topic: str, value: bytes, expect: int = 1) -> list[bytes]:
    from kafka import KafkaConsumer, KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap)
    producer.send(topic, value).get(timeout=10)
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=10000, enable_auto_commit=False)
    got = [r.value for _, r in zip(range(expect), consumer)]
    consumer.close()
    return got


def test_import_pybroker_is_cheap_and_exports_embedded_broker():
    code = "import sys, pybroker; print('pybroker.broker' in sys.modules, 'asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30).stdout.split()
    assert out == ["False", "False"]
    assert pybroker.EmbeddedBroker is EmbeddedBroker


def test_plugin_fixtures(kafka_broker, kafka_bootstrap_servers, kafka_topic, broker):
    assert kafka_broker is broker  # the project's own fixture is the plugin's shared broker
    assert kafka_bootstrap_servers == kafka_broker.bootstrap_servers
    assert produce_and_consume(kafka_bootstrap_servers, kafka_topic, b"hello") == [b"hello"]


@pytest.mark.kafka_broker(num_partitions=3, log_segment_bytes=2097152)
def test_marker_gives_a_fresh_broker_with_configs(kafka_broker, broker):
    assert kafka_broker is not broker
    assert kafka_broker.config.get("num.partitions") == 3
    assert kafka_broker.config.get("log.segment.bytes") == 2097152


@pytest.mark.kafka_topic(partitions=4, config={"retention.ms": 60000})
def test_topic_marker(kafka_broker, kafka_topic):
    image = kafka_broker.broker.image
    assert len(image.topic(kafka_topic).partitions) == 4
    assert image.topic_config(kafka_topic).get("retention.ms") == "60000"


def test_create_topic_errors_and_delete(broker, topic_name):
    broker.create_topic(topic_name, partitions=2)
    with pytest.raises(TopicError, match="TOPIC_ALREADY_EXISTS"):
        broker.create_topic(topic_name)
    broker.delete_topic(topic_name)
    assert broker.broker.image.topic(topic_name) is None
    with pytest.raises(TopicError):
        broker.create_topic("bad name!")


def test_starting_touches_no_loop_policy_or_signal_handlers():
    policy = asyncio.get_event_loop_policy()
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    wakeup = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(wakeup)
    with EmbeddedBroker():
        assert asyncio.get_event_loop_policy() is policy
        assert {s: signal.getsignal(s) for s in handlers} == handlers
        assert signal.set_wakeup_fd(wakeup) == wakeup
    assert asyncio.get_event_loop_policy() is policy
    assert {s: signal.getsignal(s) for s in handlers} == handlers


def test_async_use_on_the_callers_loop(tmp_path):
    async def main() -> list[bytes]:
        async with EmbeddedBroker(tmp_path / "data") as kafka:
            await kafka.create_topic("async-topic", partitions=2)
            loop = asyncio.get_running_loop()
            # Blocking clients run in a thread: the broker needs this loop free.
            return await loop.run_in_executor(None, produce_and_consume, kafka.bootstrap_servers, "async-topic", b"a")

    assert asyncio.run(main()) == [b"a"]
    # A data directory given by the caller is kept, and a new broker reads it back.
    assert (tmp_path / "data" / "meta.properties").exists()
    with EmbeddedBroker(tmp_path / "data") as kafka:
        assert kafka.broker.image.topic("async-topic") is not None
        # Two partitions: consumption order across them is not defined.
        assert sorted(produce_and_consume(kafka.bootstrap_servers, "async-topic", b"b", 2)) == [b"a", b"b"]


def test_temporary_data_dir_is_removed():
    kafka = EmbeddedBroker()
    data_dir = kafka.data_dir
    with kafka:
        assert data_dir.exists()
    assert not data_dir.exists()


def test_twenty_brokers_in_one_process():
    brokers = [EmbeddedBroker() for _ in range(20)]
    started: list[EmbeddedBroker] = []
    try:
        threads = [threading.Thread(target=lambda b=b: started.append(b.start())) for b in brokers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(started) == 20
        assert len({b.port for b in brokers}) == 20
        assert len({b.data_dir for b in brokers}) == 20
        for i, b in enumerate(brokers):
            b.create_topic("shared-name")
        from pybroker.tools.client import Cluster
        from pybroker.tools.consumer import Fetcher
        from pybroker.tools.producer import Producer, ProducerRecord

        for i, b in enumerate(brokers):
            with Cluster(b.bootstrap_servers) as cluster:
                results = Producer(cluster, "shared-name").send([ProducerRecord(value=b"from %d" % i)])
                assert results[0].error is None and results[0].base_offset == 0
                fetcher = Fetcher(cluster, max_wait_ms=100)
                fetcher.assign({("shared-name", 0): 0})
                assert [r.value for r in fetcher.poll()] == [b"from %d" % i]
    finally:
        for b in brokers:
            b.stop()
    assert not any(Path(b.data_dir).exists() for b in brokers)


def test_plugin_under_xdist_workers(tmp_path):
    pytest.importorskip("xdist")
    (tmp_path / "test_parallel.py").write_text(textwrap.dedent('''
        import pytest
        from kafka import KafkaProducer

        @pytest.mark.parametrize("i", range(6))
        def test_produce(kafka_bootstrap_servers, kafka_topic, i):
            producer = KafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
            meta = producer.send(kafka_topic, b"x").get(timeout=10)
            producer.close()
            assert meta.offset == 0

        @pytest.mark.kafka_broker(fresh=True)
        def test_fresh(kafka_broker, kafka_topic):
            assert kafka_broker.running
    '''))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", "--rootdir",
                           str(tmp_path), str(tmp_path / "test_parallel.py")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "7 passed" in proc.stdout


def test_examples_in_the_embedding_docs_run(tmp_path, broker):
    """The example tests of docs/embedding.md pass as written (the consumer-group ones once the
    broker serves groups)."""
    import re

    from pybroker.tools.client import Cluster

    docs = (Path(__file__).resolve().parents[2] / "docs" / "embedding.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", docs, re.S) if "def test_" in b]
    assert len(blocks) >= 4
    for i, block in enumerate(blocks):
        (tmp_path / f"test_doc_example_{i}.py").write_text(block)
    with Cluster(broker.bootstrap_servers) as cluster:
        has_groups = cluster.any_connection().supports(11)
    select = [] if has_groups else ["-k", "not test_round_trip"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore",
                           "--rootdir", str(tmp_path), *select, str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
