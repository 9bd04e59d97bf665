"""Transactional client processes for the transaction tests, run as `python txn_worker.py MODE
...` so that a test can kill them with SIGKILL at any moment.

Modes (arguments after the mode are key=value):

  open       one transaction left open: writes `count` records to `topic`, prints "OPEN",
             then sleeps until killed.
  produce    transactions in a loop: each writes `size` records "<tag>:<txn>:<i>/<size>" over
             the partitions of `topic`, waits `pause` seconds with them written, and commits
             (every `abort_every`-th one aborts); prints "TXN <n> <COMMIT|ABORT>" after each.
  process    consume-transform-produce: reads `input` in group `group` (read_committed), writes
             each record's value upper-cased to `output`, and commits the consumed offsets in
             the same transaction (send_offsets_to_transaction); prints "DONE" once the
             group's committed offsets reach `total` records.
"""

from __future__ import annotations

import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition


def _args(argv: list[str]) -> dict[str, str]:
    return dict(a.split("=", 1) for a in argv)


def _producer(bs: str, txn_id: str, **extra: object) -> Producer:
    conf = {"bootstrap.servers": bs, "transactional.id": txn_id, "linger.ms": 5}
    conf.update(extra)
    return Producer(conf)


def run_open(a: dict[str, str]) -> None:
    p = _producer(a["bs"], a["txn_id"], **{"transaction.timeout.ms": int(a.get("timeout", "60000"))})
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(int(a["count"])):
        p.produce(a["topic"], key=b"open-%d" % i, value=b"open:%d" % i)
    p.flush(30)
    print("OPEN", flush=True)
    while True:
        time.sleep(1)


def run_produce(a: dict[str, str]) -> None:
    topic, tag, size = a["topic"], a["tag"], int(a["size"])
    partitions = int(a.get("partitions", "1"))
    abort_every = int(a.get("abort_every", "0"))
    pause = float(a.get("pause", "0"))
    p = _producer(a["bs"], a["txn_id"], **{"transaction.timeout.ms": int(a.get("timeout", "60000"))})
    p.init_transactions(30)
    n = int(a.get("start", "0"))
    limit = int(a.get("txns", "1000000"))
    while n < limit:
        p.begin_transaction()
        for i in range(size):
            p.produce(topic, value=f"{tag}:{n}:{i}/{size}".encode(), partition=i % partitions)
        if pause:
            p.flush(30)
            time.sleep(pause)  # the records are written; the transaction stays open a while
        if abort_every and n % abort_every == abort_every - 1:
            p.abort_transaction(30)
            print(f"TXN {n} ABORT", flush=True)
        else:
            p.commit_transaction(30)
            print(f"TXN {n} COMMIT", flush=True)
        n += 1


def run_process(a: dict[str, str]) -> None:
    bs, group, total = a["bs"], a["group"], int(a["total"])
    consumer = Consumer({
        "bootstrap.servers": bs, "group.id": group, "isolation.level": "read_committed",
        "enable.auto.commit": False, "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
        # A restarted processor takes its dead predecessor's place at once (KIP-345) instead
        # of waiting for its session to expire.
        "group.instance.id": a.get("instance", f"{group}-instance"),
    })
    producer = _producer(bs, a["txn_id"], **{"transaction.timeout.ms": 10_000})
    producer.init_transactions(30)
    consumer.subscribe([a["input"]])
    batch = int(a.get("batch", "200"))
    while True:
        msgs = [m for m in consumer.consume(batch, 0.5) if m.error() is None]
        if not msgs:
            committed = consumer.committed(consumer.assignment(), 10) if consumer.assignment() else []
            done = sum(max(tp.offset, 0) for tp in committed)
            if done >= total:
                print("DONE", flush=True)
                return
            continue
        producer.begin_transaction()
        for m in msgs:
            producer.produce(a["output"], key=m.key(), value=m.value().upper(), partition=m.partition())
        next_offsets: dict[tuple[str, int], int] = {}
        for m in msgs:
            next_offsets[(m.topic(), m.partition())] = m.offset() + 1
        positions = [TopicPartition(t, p, o) for (t, p), o in next_offsets.items()]
        try:
            producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 30)
            producer.commit_transaction(30)
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            if err.txn_requires_abort():
                producer.abort_transaction(30)
                # Rewind to the committed offsets: the aborted output is gone.
                for tp in consumer.committed(consumer.assignment(), 10):
                    consumer.seek(TopicPartition(tp.topic, tp.partition, max(tp.offset, 0)))
                continue
            raise
        print(f"COMMITTED {len(msgs)}", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    {"open": run_open, "produce": run_produce, "process": run_process}[mode](_args(sys.argv[2:]))
