"""Transactions across crashes, with processes killed by SIGKILL: a broker killed in the middle of
transactions (after the restart each one is entirely committed or entirely aborted), and
exactly-once consume-transform-produce through a processor killed and restarted several times."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ck = pytest.importorskip("confluent_kafka")
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from broker_process import BrokerProcess  # noqa: E402
from pybroker.tools.client import Cluster  # noqa: E402

WORKER = Path(__file__).with_name("txn_worker.py")
GROUP_APIS = {8: "OffsetCommit", 9: "OffsetFetch", 10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat",
              13: "LeaveGroup", 14: "SyncGroup"}


def create_topic(bs: str, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bs})
    for f in admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)]).values():
        f.result(15)


class Worker:
    """A txn_worker.py process whose output lines are collected by a thread."""

    def __init__(self, mode: str, **args: object) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), mode, *(f"{k}={v}" for k, v in args.items())],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def wait_for(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.lines):
                return True
            if self.proc.poll() is not None:
                time.sleep(0.2)
                return predicate(self.lines)
            time.sleep(0.05)
        return False

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def wait_stable(bs: str, topic: str, partitions: int, timeout: float = 40.0) -> dict[tuple[str, int], int]:
    """Wait until no transaction is open on the topic (the last stable offset reached the high
    watermark on every partition); return the end offsets."""
    wanted = {(topic, p): -1 for p in range(partitions)}
    deadline = time.monotonic() + timeout
    with Cluster(bs) as cluster:
        while True:
            try:
                hw = cluster.list_offsets(wanted, isolation_level=0)
                lso = cluster.list_offsets(wanted, isolation_level=1)
                if hw == lso:
                    return hw
            except Exception:
                pass
            assert time.monotonic() < deadline, "transactions stayed open"
            time.sleep(0.2)


def read_all(bs: str, topic: str, partitions: int, isolation: str, expected: int | None = None,
             timeout: float = 30, idle: float = 1.0) -> list:
    """Messages from the beginning until `expected` are read, or (without `expected`) until
    nothing new came for `idle` seconds."""
    c = Consumer({"bootstrap.servers": bs, "group.id": "unused-assign-only", "isolation.level": isolation,
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    out = []
    deadline = time.monotonic() + timeout
    last_new = time.monotonic()
    try:
        while time.monotonic() < deadline:
            if expected is not None and len(out) >= expected:
                break
            if expected is None and out and time.monotonic() - last_new > idle:
                break
            for m in c.consume(1000, 0.2):
                if m.error() is None:
                    out.append(m)
                    last_new = time.monotonic()
    finally:
        c.close()
    return out


def test_broker_kill9_leaves_every_transaction_committed_or_aborted(tmp_path):
    broker = BrokerProcess(tmp_path / "data", "transaction.state.log.num.partitions=4",
                           "transaction.abort.timed.out.transaction.cleanup.interval.ms=300")
    broker.start()
    workers: list[Worker] = []
    try:
        bs = broker.bootstrap_servers
        create_topic(bs, "t", 3)
        size = 30
        for tag in ("a", "b"):
            workers.append(Worker("produce", bs=bs, txn_id=f"kill9-{tag}", topic="t", tag=tag, size=size,
                                  partitions=3, abort_every=4, timeout=3000, pause=0.05))
        for w in workers:
            assert w.wait_for(lambda ls: sum(l.startswith("TXN") for l in ls) >= 6, 60), w.lines[-5:]
        time.sleep(random.uniform(0.0, 0.3))  # land somewhere inside a transaction
        broker.kill()
        for w in workers:
            w.kill()
        reported = {(tag, int(l.split()[1])): l.split()[2] for tag, w in zip(("a", "b"), workers)
                    for l in w.lines if l.startswith("TXN")}

        broker.start()
        # Transactions open at the crash are reloaded as Ongoing (their producers are dead too)
        # and aborted on their timeout; those in PrepareCommit/PrepareAbort get their markers.
        wait_stable(bs, "t", 3)
        everything = read_all(bs, "t", 3, "read_uncommitted")
        committed = read_all(bs, "t", 3, "read_committed")

        def per_txn(msgs) -> Counter:
            return Counter((v.split(":")[0], int(v.split(":")[1])) for v in (m.value().decode() for m in msgs))

        seen, visible = per_txn(everything), per_txn(committed)
        assert visible, "no committed transaction visible"
        for txn, count in visible.items():
            assert count == size, f"transaction {txn} is partly visible ({count} of {size} records)"
        for txn, outcome in reported.items():
            if outcome == "COMMIT":
                assert visible[txn] == size, f"acknowledged commit of {txn} lost"
            else:
                assert visible[txn] == 0, f"aborted transaction {txn} visible"
        # Transactions cut by the crash (written, never acknowledged) are all aborted.
        for txn in set(seen) - set(reported):
            assert visible[txn] in (0, size)

        # The transactional ids work again after the restart.
        p = Producer({"bootstrap.servers": bs, "transactional.id": "kill9-a"})
        p.init_transactions(30)
        p.begin_transaction()
        p.produce("t", value=b"a:999999:0/1", partition=0)
        p.commit_transaction(30)
        assert any(m.value() == b"a:999999:0/1" for m in read_all(bs, "t", 3, "read_committed", len(committed) + 1))
    finally:
        for w in workers:
            w.kill()
        broker.kill()


def _group_apis_served(bs: str) -> list[str]:
    with Cluster(bs) as cluster:
        served = cluster.any_connection().protocol.versions
    return [name for key, name in GROUP_APIS.items() if key not in served]


def test_consume_transform_produce_exactly_once_through_kills(broker, topic_name):
    bs = broker.bootstrap_servers
    missing = _group_apis_served(bs)
    if missing:
        pytest.skip(f"the broker does not serve the group APIs yet ({', '.join(missing)})")
    source, sink, group = f"{topic_name}-in", f"{topic_name}-out", f"{topic_name}-eos"
    partitions, total = 3, 10_000
    create_topic(bs, source, partitions)
    create_topic(bs, sink, partitions)
    p = Producer({"bootstrap.servers": bs, "enable.idempotence": True, "linger.ms": 5})
    for i in range(total):
        p.produce(source, key=b"%d" % i, value=b"record-%05d" % i, partition=i % partitions)
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(30) == 0

    args = dict(bs=bs, group=group, txn_id=f"{group}-proc", input=source, output=sink, total=total, batch=300)
    kills = 0
    rng = random.Random(7)
    deadline = time.monotonic() + 150
    while kills < 4:
        w = Worker("process", **args)
        try:
            # Let it commit a few transactions (or at least start), then cut it down mid-flight.
            w.wait_for(lambda ls: sum(l.startswith("COMMITTED") for l in ls) >= rng.randint(1, 4), 30)
            time.sleep(rng.uniform(0.0, 0.2))
        finally:
            w.kill()
        kills += 1
        assert time.monotonic() < deadline
    final = Worker("process", **args)
    try:
        assert final.wait_for(lambda ls: "DONE" in ls, max(10.0, deadline - time.monotonic())), final.lines[-5:]
    finally:
        final.kill()

    wait_stable(bs, sink, partitions)
    out = read_all(bs, sink, partitions, "read_committed", total, timeout=30)
    got = Counter(m.value() for m in out)
    dupes = [v for v, n in got.items() if n > 1]
    assert not dupes, f"{len(dupes)} records written more than once, e.g. {dupes[:3]}"
    assert set(got) == {b"RECORD-%05d" % i for i in range(total)}
    # Per partition, output order follows input order.
    by_part = defaultdict(list)
    for m in out:
        by_part[m.partition()].append(int(m.value()[7:]))
    for part, seq in by_part.items():
        assert seq == sorted(seq)
    # The group's committed offsets are the ends of the input partitions.
    c = Consumer({"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False})
    try:
        committed = c.committed([TopicPartition(source, i) for i in range(partitions)], 15)
        ends = [c.get_watermark_offsets(TopicPartition(source, i), 10)[1] for i in range(partitions)]
    finally:
        c.close()
    assert [tp.offset for tp in committed] == ends
