"""Transactional produce throughput against a pybroker process, driven by confluent-kafka.

    python benchmarks/txn_bench.py [--count 200000] [--size 100] [--partitions 4] [--quick]

In the same run and against the same broker: an idempotent (non-transactional) producer, then
transactional producers committing transactions of 1,000 and of 100 messages. Each
transaction writes to every partition, so a commit costs the coordinator two records
(PrepareCommit, CompleteCommit) and one marker per partition. Prints messages/s, MB/s,
transactions/s, the broker's CPU microseconds per message, and the cost relative to
idempotent produce.
"""

from __future__ import annotations

import argparse
import os
import time

from confluent_kafka import Producer

from loadgen import Run, cpu_seconds, create_topic, produce_run, pybroker_process


def transactional_run(broker, topic: str, count: int, size: int, txn_size: int, partitions: int) -> tuple[Run, int]:
    """Produce `count` messages in transactions of `txn_size` (spread round-robin over the
    partitions), committing each; time from the first send to the last commit."""
    producer = Producer({
        "bootstrap.servers": broker.bootstrap, "transactional.id": f"bench-{txn_size}-{time.time_ns()}",
        "linger.ms": 5, "queue.buffering.max.messages": 2_000_000, "queue.buffering.max.kbytes": 2_097_151,
    })
    producer.init_transactions(30)
    payload = os.urandom(size)
    # warm up: one transaction touching every partition
    producer.begin_transaction()
    for p in range(partitions):
        producer.produce(topic, payload, partition=p)
    producer.commit_transaction(30)
    txns = count // txn_size
    cpu0 = cpu_seconds(broker.pid)
    t0 = time.perf_counter()
    produce = producer.produce
    for _ in range(txns):
        producer.begin_transaction()
        for i in range(txn_size):
            try:
                produce(topic, payload, partition=i % partitions)
            except BufferError:
                producer.poll(0.001)
                produce(topic, payload, partition=i % partitions)
        producer.commit_transaction(60)
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds(broker.pid) - cpu0
    n = txns * txn_size
    return Run(n, seconds, n * size, cpu), txns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000, help="messages per run")
    parser.add_argument("--size", type=int, default=100, help="message size in bytes")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="a short run to check the benchmark works")
    args = parser.parse_args()
    count = 20_000 if args.quick else args.count

    broker = pybroker_process({"transaction.state.log.num.partitions": "4"})
    broker.start()
    print(f"pybroker pid {broker.pid}; {count} messages of {args.size} bytes per run, "
          f"{args.partitions} partitions")
    print(f"{'case':<34} {'msgs/s':>10} {'MB/s':>7} {'txns/s':>8} {'cpu us/msg':>10} {'vs idempotent':>13}")
    try:
        create_topic(broker.bootstrap, "idem", args.partitions)
        base = produce_run(broker, "idem", count, args.size, acks="all")
        print(f"{'idempotent, acks=all':<34} {base.msgs_per_s:>10,.0f} {base.mb_per_s:>7.1f} {'-':>8} "
              f"{base.cpu_us_per_msg:>10.1f} {'1.00x':>13}")
        for txn_size in (1000, 100):
            topic = f"txn{txn_size}"
            create_topic(broker.bootstrap, topic, args.partitions)
            run, txns = transactional_run(broker, topic, count, args.size, txn_size, args.partitions)
            ratio = run.msgs_per_s / base.msgs_per_s
            print(f"{f'transactional, {txn_size} msgs/txn':<34} {run.msgs_per_s:>10,.0f} {run.mb_per_s:>7.1f} "
                  f"{txns / run.seconds:>8,.0f} {run.cpu_us_per_msg:>10.1f} {f'{ratio:.2f}x':>13}")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
