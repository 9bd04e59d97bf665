"""Consumer-group benchmark: rebalance time and OffsetCommit throughput on a pybroker process.

    python benchmarks/groups_bench.py [--members 10] [--partitions 100] [--runs 3]

Rebalance: `--members` confluent-kafka consumers share a topic of `--partitions` partitions
while a producer writes; one more member joins, and the clock runs from its join to the moment
every member has consumed a record written after the join. Measured for the classic protocol
(eager range and cooperative-sticky) and the KIP-848 consumer protocol.
OffsetCommit throughput: commits per second from one connection, one partition per request,
and 100 partitions per request.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid

from confluent_kafka import Consumer, Producer
from protocol.messages import OffsetCommitRequest

from loadgen import create_topic, pybroker_process


class Member:
    def __init__(self, bootstrap: str, group: str, topic: str, config: dict) -> None:
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "latest",
                                  "enable.auto.commit": True, **config})
        self.consumer.subscribe([topic])
        self.last_seen = 0.0  # send time (perf_counter) of the newest record consumed
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            for m in self.consumer.consume(100, 0.05):
                if m.error() is None:
                    self.last_seen = max(self.last_seen, float(m.value()))
        self.consumer.close()


def rebalance_time(bootstrap: str, members: int, partitions: int, config: dict) -> float:
    topic = f"rb-{uuid.uuid4().hex[:8]}"
    group = f"g-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, partitions)
    stop = threading.Event()

    def produce() -> None:
        # A steady 2,000 records/s spread over every partition: enough for each member to see
        # records within milliseconds, little enough that the rebalance is what is measured.
        p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 1})
        i = 0
        while not stop.is_set():
            p.produce(topic, b"%.6f" % time.perf_counter(), partition=i % partitions)
            i += 1
            if i % 10 == 0:
                p.poll(0)
                time.sleep(0.005)
        p.flush(10)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    group_members = [Member(bootstrap, group, topic, config) for _ in range(members)]
    try:
        # Settled: every member consuming.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            now = time.perf_counter()
            if all(now - m.last_seen < 0.5 for m in group_members):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the group never settled")
        joined = time.perf_counter()
        group_members.append(Member(bootstrap, group, topic, config))
        while time.monotonic() < deadline:
            if all(m.last_seen > joined for m in group_members):
                return time.perf_counter() - joined
            time.sleep(0.01)
        raise RuntimeError("the group never settled after the join")
    finally:
        stop.set()
        for m in group_members:
            m.stop.set()
        for m in group_members:
            m.thread.join(30)
        producer.join(10)


def commit_throughput(bootstrap: str, partitions_per_request: int, seconds: float = 3.0) -> float:
    """Commits per second (partition offsets committed) from one connection, pipelined."""
    from pybroker.tools.client import Cluster

    topic = f"oc-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, partitions_per_request)
    group = f"commits-{uuid.uuid4().hex[:8]}"
    with Cluster(bootstrap) as cluster:
        conn = cluster.coordinator(group)
        R = OffsetCommitRequest
        offset = 0
        done = 0
        window = 32
        pending: list[int] = []
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            while len(pending) < window:
                offset += 1
                body = R(group_id=group, generation_id_or_member_epoch=-1, member_id="",
                         topics=[R.OffsetCommitRequestTopic(name=topic, partitions=[
                             R.OffsetCommitRequestPartition(partition_index=p, committed_offset=offset)
                             for p in range(partitions_per_request)])])
                pending.append(conn.send(8, body))
            conn.receive(pending.pop(0))
            done += partitions_per_request
        for cid in pending:
            conn.receive(cid)
            done += partitions_per_request
        return done / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--partitions", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    broker = pybroker_process({"group.initial.rebalance.delay.ms": "0",
                               "group.consumer.min.heartbeat.interval.ms": "500",
                               "group.consumer.heartbeat.interval.ms": "500"})
    broker.start()
    try:
        cases = [
            ("classic, eager range", {"partition.assignment.strategy": "range", "heartbeat.interval.ms": 500,
                                      "session.timeout.ms": 10000}),
            ("classic, cooperative-sticky", {"partition.assignment.strategy": "cooperative-sticky",
                                             "heartbeat.interval.ms": 500, "session.timeout.ms": 10000}),
            ("consumer protocol (KIP-848)", {"group.protocol": "consumer"}),
        ]
        print(f"rebalance: {args.members} members on {args.partitions} partitions, one more joins "
              "(heartbeat interval 500 ms)")
        for label, config in cases:
            times = [rebalance_time(broker.bootstrap, args.members, args.partitions, config) for _ in range(args.runs)]
            print(f"  {label:<30} min {min(times) * 1000:7.0f} ms   median {statistics.median(times) * 1000:7.0f} ms"
                  f"   max {max(times) * 1000:7.0f} ms")
        for per_request in (1, 100):
            rates = [commit_throughput(broker.bootstrap, per_request) for _ in range(args.runs)]
            print(f"OffsetCommit, {per_request:>3} partition(s) per request: median {statistics.median(rates):,.0f} "
                  f"offsets/s (min {min(rates):,.0f}, max {max(rates):,.0f})")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
