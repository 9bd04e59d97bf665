"""Traffic counters the request paths bump with plain arithmetic (no locks, no library calls);
the Prometheus endpoint reads them when it is scraped.

Produce and fetch pay one dict update per partition per request, and every request one
latency observation: a bisect into fixed bucket bounds.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

# Upper bounds (seconds) of the request latency buckets; +Inf is implied.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)


class RequestLatency:
    """Per-bucket counts (not cumulative) and the sum of one API's request durations."""

    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.sum = 0.0


class BrokerStats:
    """Counters of one broker."""

    __slots__ = ("bytes_in", "messages_in", "bytes_out", "requests", "connections_opened")

    def __init__(self) -> None:
        self.bytes_in: defaultdict[str, int] = defaultdict(int)
        self.messages_in: defaultdict[str, int] = defaultdict(int)
        self.bytes_out: defaultdict[str, int] = defaultdict(int)
        self.requests: dict[int, RequestLatency] = {}
        self.connections_opened: defaultdict[str, int] = defaultdict(int)

    def produced(self, topic: str, nbytes: int, messages: int) -> None:
        self.bytes_in[topic] += nbytes
        self.messages_in[topic] += messages

    def fetched(self, topic: str, nbytes: int) -> None:
        self.bytes_out[topic] += nbytes

    def request_done(self, api_key: int, seconds: float) -> None:
        latency = self.requests.get(api_key)
        if latency is None:
            latency = self.requests[api_key] = RequestLatency()
        latency.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        latency.sum += seconds

    def forget_topics(self, keep: set[str]) -> None:
        """Drop the counters of deleted topics (Kafka removes their metrics too)."""
        for counters in (self.bytes_in, self.messages_in, self.bytes_out):
            for topic in [t for t in list(counters) if t not in keep]:
                counters.pop(topic, None)
