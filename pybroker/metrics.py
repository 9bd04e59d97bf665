"""The Prometheus endpoint of a broker, on `pybroker.metrics.port` (unset: off; 0: a free port).

Everything is computed when the endpoint is scraped, from what the broker already keeps: the
traffic counters of `pybroker.stats`, the partitions and their logs, the connections, and the
group coordinator's committed offsets. Each broker has its own registry, so brokers embedded
side by side in one process never mix their series. The HTTP server is prometheus-client's,
on a daemon thread.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Iterable, Iterator

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.exposition import start_http_server
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from protocol.api_keys import ApiKey
from pybroker.stats import LATENCY_BUCKETS

log = logging.getLogger("pybroker.metrics")


def _api_name(key: int) -> str:
    try:
        return ApiKey(key).name
    except ValueError:
        return str(key)


class BrokerCollector(Collector):
    """Builds every pybroker_* series of one broker at scrape time."""

    def __init__(self, broker: Any) -> None:
        self.broker = broker

    def describe(self) -> list[Metric]:
        return []  # series depend on the broker's state; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        broker = self.broker
        yield from self._info(broker)
        yield from self._requests(broker)
        yield from self._connections(broker)
        yield from self._partitions(broker)
        yield from self._groups(broker)

    # --- pieces ---------------------------------------------------------------------------------
    @staticmethod
    def _info(broker: Any) -> Iterator[Metric]:
        from pybroker import __version__

        info = InfoMetricFamily("pybroker_broker", "The broker's identity.")
        info.add_metric([], {"version": __version__, "node_id": str(broker.node_id),
                             "cluster_id": str(broker.cluster_id or "")})
        yield info

    @staticmethod
    def _requests(broker: Any) -> Iterator[Metric]:
        hist = HistogramMetricFamily("pybroker_request_duration_seconds",
                                     "Time from a request's arrival to its response being queued, per API; "
                                     "its _count gives request rates.", labels=["api"])
        for key, latency in sorted(dict(broker.stats.requests).items()):
            counts = list(latency.counts)
            cumulative, buckets = 0, []
            for bound, n in zip((*LATENCY_BUCKETS, math.inf), counts):
                cumulative += n
                buckets.append(("+Inf" if bound == math.inf else repr(bound), cumulative))
            hist.add_metric([_api_name(key)], buckets, latency.sum)
        yield hist

    @staticmethod
    def _connections(broker: Any) -> Iterator[Metric]:
        current = GaugeMetricFamily("pybroker_connections", "Open client connections.", labels=["listener"])
        opened = CounterMetricFamily("pybroker_connections_opened", "Connections accepted since start.",
                                     labels=["listener"])
        counts: dict[str, int] = {name: 0 for name in broker.listeners}
        for dispatcher in (broker.dispatcher, broker.controller_dispatcher):
            for conn in list(dispatcher.connections):
                counts[conn.listener_name] = counts.get(conn.listener_name, 0) + 1
        for name, n in sorted(counts.items()):
            current.add_metric([name], n)
        for name, n in sorted(dict(broker.stats.connections_opened).items()):
            opened.add_metric([name], n)
        yield current
        yield opened

    @staticmethod
    def _partitions(broker: Any) -> Iterator[Metric]:
        stats = broker.stats
        image = broker.metadata.image if broker.metadata is not None else None
        topics = set(image.topics_by_name) if image is not None else set()
        if image is not None:
            stats.forget_topics(topics)
        bytes_in = CounterMetricFamily("pybroker_topic_bytes_in", "Record batch bytes produced to a topic.",
                                       labels=["topic"])
        messages_in = CounterMetricFamily("pybroker_topic_messages_in", "Records produced to a topic.",
                                          labels=["topic"])
        bytes_out = CounterMetricFamily("pybroker_topic_bytes_out", "Record batch bytes fetched by consumers.",
                                        labels=["topic"])
        for family, counters in ((bytes_in, stats.bytes_in), (messages_in, stats.messages_in),
                                 (bytes_out, stats.bytes_out)):
            for topic, n in sorted(dict(counters).items()):
                family.add_metric([topic], n)
            yield family

        labels = ["topic", "partition"]
        leo = GaugeMetricFamily("pybroker_partition_log_end_offset", "Offset of the next record appended.", labels=labels)
        lso = GaugeMetricFamily("pybroker_partition_log_start_offset", "First offset still in the log.", labels=labels)
        hw = GaugeMetricFamily("pybroker_partition_high_watermark", "Offset up to which records are committed.",
                               labels=labels)
        size = GaugeMetricFamily("pybroker_partition_log_size_bytes", "Bytes of the partition's segments on disk.",
                                 labels=labels)
        segments = GaugeMetricFamily("pybroker_partition_log_segments", "Segments of the partition's log.",
                                     labels=labels)
        leaders = GaugeMetricFamily("pybroker_leader_partitions", "Partitions this broker leads.")
        hosted = GaugeMetricFamily("pybroker_partitions", "Partition replicas this broker hosts.")
        urp = GaugeMetricFamily("pybroker_under_replicated_partitions",
                                "Led partitions whose in-sync replica set is smaller than their replica set.")
        partitions = list(broker.replicas.partitions.values()) if broker.replicas is not None else []
        n_leaders = n_under = 0
        for p in sorted(partitions, key=lambda p: (p.topic, p.index)):
            if p.deleted:
                continue
            key = [p.topic, str(p.index)]
            plog = p.log
            try:
                leo.add_metric(key, plog.log_end_offset)
                lso.add_metric(key, plog.log_start_offset)
                hw.add_metric(key, plog.high_watermark)
                size.add_metric(key, plog.size_in_bytes)
                segments.add_metric(key, plog.number_of_segments)
            except Exception:  # a log closed under us while deleting: skip it this scrape
                continue
            if p.is_leader:
                n_leaders += 1
                if len(p.isr) < len(p.replicas):
                    n_under += 1
        leaders.add_metric([], n_leaders)
        hosted.add_metric([], len(partitions))
        urp.add_metric([], n_under)
        yield from (leo, lso, hw, size, segments, leaders, hosted, urp)

    @staticmethod
    def _groups(broker: Any) -> Iterator[Metric]:
        offsets = _committed_offsets(broker)
        if offsets is None:
            return
        labels = ["group", "topic", "partition"]
        committed = GaugeMetricFamily("pybroker_consumer_group_committed_offset",
                                      "A consumer group's committed offset.", labels=labels)
        lag = GaugeMetricFamily("pybroker_consumer_group_lag",
                                "Log end offset minus the group's committed offset (led partitions).",
                                labels=labels)
        total = GaugeMetricFamily("pybroker_consumer_group_lag_sum", "A group's lag over all its partitions.",
                                  labels=["group"])
        sums: dict[str, int] = {}
        replicas = broker.replicas
        for group, topic, partition, offset in sorted(offsets):
            key = [group, topic, str(partition)]
            committed.add_metric(key, offset)
            p = replicas.get(topic, partition) if replicas is not None else None
            if p is None or not p.is_leader or p.deleted:
                continue
            n = max(p.log.log_end_offset - offset, 0)
            lag.add_metric(key, n)
            sums[group] = sums.get(group, 0) + n
        for group, n in sorted(sums.items()):
            total.add_metric([group], n)
        yield from (committed, lag, total)


def _committed_offsets(broker: Any) -> list[tuple[str, str, int, int]] | None:
    """(group, topic, partition, offset) of the groups this broker coordinates, read from the
    group coordinator's loaded shards (each keeps an OffsetStore as `offsets`); None while the
    broker has no group coordinator."""
    runtime = getattr(broker, "coordinators", {}).get(0)  # key type 0: groups
    if runtime is None:
        return None
    out: list[tuple[str, str, int, int]] = []
    try:
        shards = list(runtime.loaded_shards())
    except Exception:
        log.exception("listing group coordinator shards for metrics failed")
        return out
    for shard in shards:
        store = getattr(shard, "offsets", None)
        committed = getattr(store, "committed", None)
        if not isinstance(committed, dict):
            continue
        # The broker's loop changes these dicts while a scrape reads them from its thread:
        # copy each level (an atomic C-level copy) before iterating.
        for group, topics in list(committed.items()):
            for topic, partitions in list(dict(topics).items()):
                for partition, entry in list(dict(partitions).items()):
                    out.append((group, topic, partition, entry.offset))
    return out


class MetricsServer:
    """The registry and HTTP endpoint of one broker."""

    def __init__(self, broker: Any, host: str, port: int) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(BrokerCollector(broker))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        self.host = host
        self.port: int = self._server.server_port
        log.info("metrics endpoint on http://%s:%d/metrics", host, self.port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_metrics(broker: Any) -> MetricsServer | None:
    """Start the endpoint when `pybroker.metrics.port` is set."""
    port = broker.config.get("pybroker.metrics.port")
    if port is None:
        return None
    return MetricsServer(broker, broker.config.get("pybroker.metrics.host") or "localhost", int(port))


def render(registry: CollectorRegistry) -> bytes:
    """The exposition text of a registry (for tests and tools without HTTP)."""
    from prometheus_client import generate_latest

    return generate_latest(registry)


__all__: Iterable[str] = ["MetricsServer", "BrokerCollector", "start_metrics", "render"]
