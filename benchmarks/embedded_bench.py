"""Embedding speed and footprint: how soon a client's first produce succeeds, and how much memory
the broker holds, for an in-process EmbeddedBroker and for a `python -m pybroker` subprocess.

    python benchmarks/embedded_bench.py [--client confluent|kafka-python] [--runs 5]

Each run is a fresh interpreter, so imports and memory are measured cold. Printed per mode:
import time, start time (EmbeddedBroker().start() returning, or the process listening), time
from start to the first acknowledged produce, idle RSS of the broker (before any client is
loaded, after a second of idling) and peak RSS (broker plus client for the embedded mode).
Goals: first produce under 100 ms after start, idle RSS under 60 MB.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_EMBEDDED = r"""
import json, sys, time
t0 = time.perf_counter()
from pybroker import EmbeddedBroker
t_import = time.perf_counter() - t0

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])

t0 = time.perf_counter()
kafka = EmbeddedBroker().start()
t_start = time.perf_counter() - t0
client = sys.argv[1]
if client == "confluent":
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": kafka.bootstrap_servers, "linger.ms": 0, "acks": "all"})
    done = []
    producer.produce("first", b"hello", on_delivery=lambda err, msg: done.append(err))
    producer.flush(30)
    assert done == [None], done
else:
    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, linger_ms=0, acks="all")
    producer.send("first", b"hello").get(timeout=30)
t_first = time.perf_counter() - t0
producer = None
time.sleep(1.0)
idle_with_client = rss("VmRSS:")
peak = rss("VmHWM:")
kafka.stop()
print(json.dumps({"import": t_import, "start": t_start, "first_produce": t_first,
                  "idle_rss_kib": idle_with_client, "peak_rss_kib": peak}))
"""

# Idle footprint of the broker alone: no client library in the process.
_EMBEDDED_IDLE = r"""
import json, time
from pybroker import EmbeddedBroker
kafka = EmbeddedBroker().start()
time.sleep(1.0)
rss = {l.split(":")[0]: int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(("VmRSS", "VmHWM"))}
kafka.stop()
print(json.dumps({"idle_rss_kib": rss["VmRSS"], "peak_rss_kib": rss["VmHWM"]}))
"""

_FIRST_PRODUCE = r"""
import json, sys, time
t0 = float(sys.argv[2])
bootstrap = sys.argv[3]
if sys.argv[1] == "confluent":
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": "all",
                         "reconnect.backoff.ms": 5, "reconnect.backoff.max.ms": 20})
    done = []
    producer.produce("first", b"hello", on_delivery=lambda err, msg: done.append(err))
    producer.flush(30)
    assert done == [None], done
else:
    from kafka import KafkaProducer
    from kafka.errors import NoBrokersAvailable
    while True:
        try:
            producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, acks="all", reconnect_backoff_ms=5)
            break
        except NoBrokersAvailable:
            time.sleep(0.005)
    producer.send("first", b"hello").get(timeout=30)
print(json.dumps({"first_produce": time.time() - t0}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                         cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def proc_status(pid: int) -> dict[str, int]:
    with open(f"/proc/{pid}/status") as f:
        return {l.split(":")[0]: int(l.split()[1]) for l in f if l.startswith(("VmRSS", "VmHWM"))}


def subprocess_run(client: str) -> dict:
    """A broker process: time from spawning it to the first produce, its RSS idle and at peak."""
    port, cport = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="pybroker-bench-") as data:
        cmd = [sys.executable, "-m", "pybroker", "--log-level", "WARNING",
               "--override", f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
               "--override", f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
               "--override", f"controller.quorum.voters=1@127.0.0.1:{cport}",
               "--override", f"log.dirs={data}"]
        t0 = time.time()
        broker = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        try:
            # The client starts at the same moment and retries until the broker answers.
            first = python(_FIRST_PRODUCE, client, repr(t0), f"127.0.0.1:{port}")
            line = broker.stdout.readline()  # "pybroker listening on ..." printed once ready
            assert line.startswith("pybroker listening"), line
            time.sleep(1.0)
            status = proc_status(broker.pid)
        finally:
            broker.terminate()
            broker.wait(30)
    return {"first_produce": first["first_produce"], "idle_rss_kib": status["VmRSS"], "peak_rss_kib": status["VmHWM"]}


def subprocess_start() -> float:
    """Seconds from spawning `python -m pybroker` to its listening line."""
    port, cport = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="pybroker-bench-") as data:
        cmd = [sys.executable, "-m", "pybroker", "--log-level", "WARNING",
               "--override", f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
               "--override", f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
               "--override", f"controller.quorum.voters=1@127.0.0.1:{cport}",
               "--override", f"log.dirs={data}"]
        t0 = time.perf_counter()
        broker = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        try:
            broker.stdout.readline()
            return time.perf_counter() - t0
        finally:
            broker.terminate()
            broker.wait(30)


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms (min {min(values) * 1000:.1f})"


def mb(values: list[int]) -> str:
    return f"{statistics.median(values) / 1024:6.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", choices=("confluent", "kafka-python"), default="confluent")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    embedded = [python(_EMBEDDED, args.client) for _ in range(args.runs)]
    idle = [python(_EMBEDDED_IDLE) for _ in range(args.runs)]
    process = [subprocess_run(args.client) for _ in range(args.runs)]
    process_start = [subprocess_start() for _ in range(args.runs)]

    print(f"client: {args.client}, {args.runs} runs each, medians")
    print("embedded (EmbeddedBroker in the test process)")
    print(f"  import pybroker.EmbeddedBroker      {ms([r['import'] for r in embedded])}")
    print(f"  EmbeddedBroker().start()            {ms([r['start'] for r in embedded])}")
    print(f"  start -> first acked produce        {ms([r['first_produce'] for r in embedded])}   (goal < 100 ms)")
    print(f"  idle RSS, broker alone              {mb([r['idle_rss_kib'] for r in idle])}   (goal < 60 MB)")
    print(f"  peak RSS, broker alone              {mb([r['peak_rss_kib'] for r in idle])}")
    print(f"  idle RSS, broker + {args.client:<16} {mb([r['idle_rss_kib'] for r in embedded])}")
    print(f"  peak RSS, broker + {args.client:<16} {mb([r['peak_rss_kib'] for r in embedded])}")
    print("subprocess (python -m pybroker)")
    print(f"  spawn -> listening                  {ms(process_start)}")
    print(f"  spawn -> first acked produce        {ms([r['first_produce'] for r in process])}")
    print(f"  idle RSS of the broker process      {mb([r['idle_rss_kib'] for r in process])}")
    print(f"  peak RSS of the broker process      {mb([r['peak_rss_kib'] for r in process])}")


if __name__ == "__main__":
    main()
