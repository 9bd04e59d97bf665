"""The Prometheus endpoint: scraped over HTTP, with per-API request histograms, per-topic traffic,
per-partition offsets and sizes, connections and process metrics; one registry per broker."""

from __future__ import annotations

import urllib.request

import pytest

pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from pybroker.embedded import EmbeddedBroker  # noqa: E402


def scrape(url: str) -> dict[str, list]:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, []).append(s)
    return samples


def value(samples: dict[str, list], name: str, **labels: str) -> float:
    matching = [s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())]
    assert matching, f"no sample {name} {labels}"
    return matching[0]


def test_metrics_endpoint_is_off_unless_configured(broker):
    assert broker.broker.metrics is None


def test_scrape_shows_requests_traffic_partitions_connections_and_process():
    from kafka import KafkaConsumer, KafkaProducer

    with EmbeddedBroker(pybroker_metrics_port=0) as kafka:
        url = kafka.broker.metrics.url
        kafka.create_topic("metered", partitions=2)
        producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
        for i in range(10):
            producer.send("metered", key=b"k%d" % i, value=b"x" * 100, partition=i % 2)
        producer.flush()
        consumer = KafkaConsumer("metered", bootstrap_servers=kafka.bootstrap_servers, auto_offset_reset="earliest",
                                 consumer_timeout_ms=3000, enable_auto_commit=False)
        got = sum(1 for _ in zip(range(10), consumer))
        assert got == 10

        s = scrape(url)
        assert value(s, "pybroker_request_duration_seconds_count", api="Produce") >= 1
        assert value(s, "pybroker_request_duration_seconds_count", api="Metadata") >= 1
        assert value(s, "pybroker_request_duration_seconds_bucket", api="Produce", le="+Inf") == \
            value(s, "pybroker_request_duration_seconds_count", api="Produce")
        assert value(s, "pybroker_request_duration_seconds_sum", api="Fetch") > 0
        assert value(s, "pybroker_topic_messages_in_total", topic="metered") == 10
        assert value(s, "pybroker_topic_bytes_in_total", topic="metered") > 1000
        assert value(s, "pybroker_topic_bytes_out_total", topic="metered") > 1000
        for p in ("0", "1"):
            assert value(s, "pybroker_partition_log_end_offset", topic="metered", partition=p) == 5
            assert value(s, "pybroker_partition_high_watermark", topic="metered", partition=p) == 5
            assert value(s, "pybroker_partition_log_size_bytes", topic="metered", partition=p) > 500
        assert value(s, "pybroker_under_replicated_partitions") == 0
        assert value(s, "pybroker_leader_partitions") >= 2
        assert value(s, "pybroker_connections", listener="PLAINTEXT") >= 1
        assert value(s, "pybroker_connections_opened_total", listener="PLAINTEXT") >= 2
        assert value(s, "process_resident_memory_bytes") > 0
        assert value(s, "pybroker_broker_info", node_id="1") == 1
        producer.close()
        consumer.close()

        # A deleted topic's series go away.
        kafka.delete_topic("metered")
        s = scrape(url)
        assert not [x for x in s.get("pybroker_topic_messages_in_total", []) if x.labels["topic"] == "metered"]
        assert not [x for x in s.get("pybroker_partition_log_end_offset", []) if x.labels["topic"] == "metered"]


def test_brokers_side_by_side_have_their_own_registries():
    with EmbeddedBroker(pybroker_metrics_port=0) as a, EmbeddedBroker(pybroker_metrics_port=0) as b:
        a.create_topic("only-in-a")
        sa, sb = scrape(a.broker.metrics.url), scrape(b.broker.metrics.url)
        assert a.broker.metrics.port != b.broker.metrics.port
        assert [x for x in sa["pybroker_partition_log_end_offset"] if x.labels["topic"] == "only-in-a"]
        assert not [x for x in sb.get("pybroker_partition_log_end_offset", []) if x.labels["topic"] == "only-in-a"]
    # Both endpoints are gone once the brokers stop.
    with pytest.raises(OSError):
        urllib.request.urlopen(a.broker.metrics.url, timeout=2)


def test_group_lag_from_the_coordinators_offsets():
    """Lag = log end offset - committed offset, read from the loaded group coordinator shards."""
    from types import SimpleNamespace

    from pybroker.metrics import BrokerCollector

    entry = SimpleNamespace(offset=3)
    shard = SimpleNamespace(offsets=SimpleNamespace(committed={"g1": {"t": {0: entry, 1: SimpleNamespace(offset=9)}}}))
    runtime = SimpleNamespace(loaded_shards=lambda: [shard])
    partitions = {("t", 0): SimpleNamespace(is_leader=True, deleted=False, log=SimpleNamespace(log_end_offset=10)),
                  ("t", 1): SimpleNamespace(is_leader=True, deleted=False, log=SimpleNamespace(log_end_offset=9))}
    broker = SimpleNamespace(coordinators={0: runtime},
                             replicas=SimpleNamespace(get=lambda t, p: partitions.get((t, p))))
    families = {f.name: f for f in BrokerCollector._groups(broker)}
    lag = {(s.labels["group"], s.labels["partition"]): s.value for s in families["pybroker_consumer_group_lag"].samples}
    assert lag == {("g1", "0"): 7, ("g1", "1"): 0}
    assert [s.value for s in families["pybroker_consumer_group_lag_sum"].samples] == [7]
    assert list(BrokerCollector._groups(SimpleNamespace(coordinators={}, replicas=None))) == []
