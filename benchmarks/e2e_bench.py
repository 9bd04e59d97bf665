"""End-to-end benchmark: a pybroker process driven by confluent-kafka (librdkafka).

    python benchmarks/e2e_bench.py [--count 200000] [--quick]

Prints produce and consume throughput (messages/s, MB/s) for 100-byte and 1 KiB messages,
acks=1 and acks=all, 1 and 8 partitions; p50/p99 produce latency at a fixed moderate rate; and
the broker's CPU seconds per GB and peak RSS.
"""

from __future__ import annotations

import argparse

from loadgen import (
    consume_run,
    create_topic,
    latency_run,
    percentile,
    produce_run,
    pybroker_process,
    rss_kib,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000, help="messages per 100-byte run (1 KiB runs use a fifth)")
    parser.add_argument("--rate", type=int, default=5000, help="messages/s of the latency run")
    parser.add_argument("--quick", action="store_true", help="a short run to check the benchmark works")
    args = parser.parse_args()
    count = 20_000 if args.quick else args.count

    broker = pybroker_process()
    started = broker.start()
    print(f"pybroker started and listening in {started * 1000:.0f} ms (pid {broker.pid})")
    header = f"{'case':<34} {'msgs/s':>10} {'MB/s':>8} {'cpu s/GB':>9} {'cpu us/msg':>10}"
    try:
        print(header)
        for size in (100, 1024):
            n = count if size == 100 else count // 5
            for partitions in (1, 8):
                for acks in ("1", "all"):
                    topic = f"bench-{size}-{partitions}-{acks}"
                    create_topic(broker.bootstrap, topic, partitions)
                    run = produce_run(broker, topic, n, size, acks=acks)
                    print(f"{f'produce {size} B, {partitions} part, acks={acks}':<34} {run.msgs_per_s:>10,.0f} "
                          f"{run.mb_per_s:>8.1f} {run.cpu_s_per_gb:>9.2f} {run.cpu_us_per_msg:>10.2f}")
                    if acks == "1":
                        c = consume_run(broker, topic, partitions, run.messages, size)
                        print(f"{f'consume {size} B, {partitions} part':<34} {c.msgs_per_s:>10,.0f} "
                              f"{c.mb_per_s:>8.1f} {c.cpu_s_per_gb:>9.2f} {c.cpu_us_per_msg:>10.2f}")
        create_topic(broker.bootstrap, "bench-latency", 1)
        seconds = 2 if args.quick else 5
        lat = latency_run(broker, "bench-latency", args.rate, seconds)
        print(f"produce latency at {args.rate}/s, linger.ms=5, acks=1: p50 {percentile(lat, 50) * 1000:.2f} ms, "
              f"p99 {percentile(lat, 99) * 1000:.2f} ms ({len(lat)} messages)")
        lat = latency_run(broker, "bench-latency", args.rate, seconds, acks="all", linger_ms=0)
        print(f"produce latency at {args.rate}/s, linger.ms=0, acks=all: p50 {percentile(lat, 50) * 1000:.2f} ms, "
              f"p99 {percentile(lat, 99) * 1000:.2f} ms")
        print(f"broker peak RSS {rss_kib(broker.pid, 'VmHWM') / 1024:.1f} MiB, now {rss_kib(broker.pid) / 1024:.1f} MiB")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
