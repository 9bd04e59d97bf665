"""Load generation with confluent-kafka (librdkafka) and process accounting from /proc.

Shared by the end-to-end benchmarks: a broker process to measure, produce and consume
throughput runs, fixed-rate latency runs, and CPU seconds and peak RSS of a process.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used."""
    return sum(cpu_split(pid))


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds a process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def page_cache_write_cost(directory: Path, nbytes: int, chunk: int = 1 << 20) -> float:
    """System CPU µs per KiB for plain os.write of `nbytes` to a new file in `directory`: what
    the kernel charges any writer for putting the same bytes into the page cache right now.
    The file is left in place (the caller removes the directory), so that its pages are not
    handed back for the next measurement to reuse."""
    data = os.urandom(chunk)
    fd = os.open(directory / "page-cache-reference.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        before = os.times().system
        for _ in range(max(1, nbytes // chunk)):
            os.write(fd, data)
        spent = os.times().system - before
    finally:
        os.close(fd)
    return spent / (max(1, nbytes // chunk) * chunk / 1024) * 1e6


def recycle_memory(directory: Path, nbytes: int, chunk: int = 1 << 20) -> None:
    """Write `nbytes` to a scratch file in `directory` and delete it, so that the next
    allocations get memory the kernel has just used and freed.

    A broker that has run for a while reuses page-cache pages it evicts. A freshly booted VM
    instead hands out memory the hypervisor has taken back (free page reporting): the first
    write to each such page stalls the guest, and that time lands in whichever process touched
    it. Runs preceded by this measure the steady state; runs without it, a new machine."""
    data = os.urandom(chunk)
    path = directory / "recycle.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for _ in range(max(1, nbytes // chunk)):
            os.write(fd, data)
    finally:
        os.close(fd)
        os.unlink(path)


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident set size (VmRSS) or its peak (VmHWM) in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class BrokerUnderTest:
    """A broker process on loopback; `pid` is what CPU and memory figures are read from."""

    def __init__(self, command: list[str], port: int, data_dir: Path | None = None) -> None:
        self.command = command
        self.port = port
        self.data_dir = data_dir
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30) -> float:
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while time.monotonic() - t0 < timeout:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return time.monotonic() - t0
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.command[0]} exited with {self.proc.returncode}")
                time.sleep(0.01)
        raise RuntimeError("broker did not start listening")

    def stop_keep_data(self) -> None:
        """SIGTERM and wait: a clean shutdown that keeps the data for the next start."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def stop(self) -> None:
        self.stop_keep_data()
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def compile_sources() -> None:
    """Byte-compile the project, as `pip install` does for an installed package: start-up
    figures should not include compiling ~150 modules from source, which is what every start
    costs where PYTHONDONTWRITEBYTECODE is set and nothing is compiled yet (about 0.25 s here)."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    for package in ("pybroker", "protocol", "storage", "raft"):
        compileall.compile_dir(str(root / package), quiet=1)


def pybroker_process(extra: dict[str, str] | None = None) -> BrokerUnderTest:
    compile_sources()
    port, cport = free_port(), free_port()
    data = Path(tempfile.mkdtemp(prefix="pybroker-bench-"))
    overrides = {
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.quorum.voters": f"1@127.0.0.1:{cport}",
        "log.dirs": str(data),
        "num.partitions": "1",
        **(extra or {}),
    }
    cmd = [sys.executable, "-m", "pybroker", "--log-level", "WARNING"]
    for k, v in overrides.items():
        cmd += ["--override", f"{k}={v}"]
    return BrokerUnderTest(cmd, port, data)


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).values():
        f.result(30)


@dataclass
class Run:
    messages: int
    seconds: float
    bytes: int
    broker_cpu: float

    @property
    def msgs_per_s(self) -> float:
        return self.messages / self.seconds

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / 1e6

    @property
    def cpu_us_per_msg(self) -> float:
        return self.broker_cpu / self.messages * 1e6

    @property
    def cpu_s_per_gb(self) -> float:
        return self.broker_cpu / (self.bytes / 1e9) if self.bytes else 0.0


def produce_run(broker: BrokerUnderTest, topic: str, count: int, size: int, *, acks: str = "1",
                linger_ms: int = 5, extra: dict | None = None) -> Run:
    """Produce `count` messages of `size` bytes as fast as the client can; time from the first
    send to the last delivery report."""
    producer = Producer({
        "bootstrap.servers": broker.bootstrap, "acks": acks, "linger.ms": linger_ms,
        "enable.idempotence": acks == "all", "queue.buffering.max.messages": 2_000_000,
        "queue.buffering.max.kbytes": 2_097_151, **(extra or {}),
    })
    payload = os.urandom(size)
    delivered = [0]
    failed = [0]

    def report(err, _msg):
        if err is None:
            delivered[0] += 1
        else:
            failed[0] += 1

    producer.produce(topic, payload, on_delivery=report)  # warm up the connection and metadata
    producer.flush(30)
    delivered[0] = 0
    cpu0 = cpu_seconds(broker.pid)
    t0 = time.perf_counter()
    produce = producer.produce
    for _ in range(count):
        try:
            produce(topic, payload, on_delivery=report)
        except BufferError:
            producer.poll(0.001)
            produce(topic, payload, on_delivery=report)
    producer.flush(120)
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds(broker.pid) - cpu0
    if failed[0]:
        raise RuntimeError(f"{failed[0]} messages failed")
    return Run(delivered[0], seconds, delivered[0] * size, cpu)


def consume_run(broker: BrokerUnderTest, topic: str, partitions: int, count: int, size: int) -> Run:
    """Consume `count` messages from the beginning by assignment (no group). The clock starts
    at the first message: librdkafka spends about half a second on its own before its first
    offset query, which says nothing about the broker."""
    consumer = Consumer({
        "bootstrap.servers": broker.bootstrap, "group.id": "bench", "enable.auto.commit": False,
        "fetch.max.bytes": 52_428_800, "max.partition.fetch.bytes": 10_485_760,
        "fetch.wait.max.ms": 100, "queued.max.messages.kbytes": 1_048_576,
    })
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    seen = 0
    deadline = time.perf_counter() + 300
    while not seen and time.perf_counter() < deadline:
        for m in consumer.consume(1, 1.0):
            if m.error() is None:
                seen += 1
    cpu0 = cpu_seconds(broker.pid)
    t0 = time.perf_counter()
    while seen < count and time.perf_counter() < deadline:
        for m in consumer.consume(10_000, 1.0):
            if m.error() is None:
                seen += 1
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds(broker.pid) - cpu0
    consumer.close()
    return Run(seen - 1, seconds, (seen - 1) * size, cpu)


def latency_run(broker: BrokerUnderTest, topic: str, rate: int, seconds: float, size: int = 100, *,
                acks: str = "1", linger_ms: int = 5) -> list[float]:
    """Produce at a fixed rate; return each message's produce-to-acknowledgement latency (s)."""
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": acks, "linger.ms": linger_ms,
                         "enable.idempotence": acks == "all"})
    latencies: list[float] = []
    payload = os.urandom(size)

    producer.produce(topic, payload)
    producer.flush(10)
    t0 = time.perf_counter()
    n = int(rate * seconds)
    for i in range(n):
        target = t0 + i / rate
        now = time.perf_counter()
        if target > now:
            time.sleep(target - now)
        sent = time.perf_counter()
        producer.produce(topic, payload, on_delivery=lambda err, msg, sent=sent: latencies.append(time.perf_counter() - sent))
        producer.poll(0)
    producer.flush(30)
    return latencies


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]


class PeakRss:
    """Samples a process's RSS in the background; VmHWM gives the peak as well."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_kib(self.pid))
            except OSError:
                return
            time.sleep(self.interval)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
