"""Producing records for the tools: Kafka's default partitioner, one record batch per partition,
one Produce request per leader, retries after leadership moves."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from protocol import messages as m
from protocol.compression import Codec
from protocol.errors import ErrorCode
from protocol.records import build_simple_batch
from pybroker.tools.client import Cluster, KafkaError

Header = tuple[str, bytes | None]

COMPRESSION = {"none": Codec.NONE, "gzip": Codec.GZIP, "snappy": Codec.SNAPPY, "lz4": Codec.LZ4,
               "zstd": Codec.ZSTD}


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash (Utils.murmur2), as a signed 32-bit int."""
    m_ = 0x5BD1E995
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    end = length & ~3
    for i in range(0, end, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * m_) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m_) & 0xFFFFFFFF
        h = ((h * m_) & 0xFFFFFFFF) ^ k
    extra = length & 3
    if extra == 3:
        h ^= data[end + 2] << 16
    if extra >= 2:
        h ^= data[end + 1] << 8
    if extra >= 1:
        h ^= data[end]
        h = (h * m_) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m_) & 0xFFFFFFFF
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for a keyed record."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


@dataclass(slots=True)
class ProducerRecord:
    value: bytes | None
    key: bytes | None = None
    headers: Sequence[Header] = ()
    partition: int | None = None
    timestamp: int | None = None


@dataclass(slots=True)
class SendResult:
    partition: int
    base_offset: int
    count: int
    error: KafkaError | None = None


@dataclass
class Producer:
    """Sends records to one topic; not idempotent (as kafka-console-producer with its defaults
    on older brokers), acks 0, 1 or -1 (all)."""

    cluster: Cluster
    topic: str
    acks: int = -1
    compression: int = Codec.NONE
    request_timeout_ms: int = 30_000
    retries: int = 5
    _sticky: int = field(default=-1, init=False)

    def send(self, records: Sequence[ProducerRecord]) -> list[SendResult]:
        """Send records and wait for the acknowledgements; one result per partition batch."""
        if not records:
            return []
        partitions = self.cluster.partitions(self.topic)
        n = len(partitions)
        # Records without a key or partition stick to one partition per call (Kafka's sticky
        # partitioner does the same per batch).
        self._sticky = (self._sticky + 1) % n
        groups: dict[int, list[ProducerRecord]] = {}
        for r in records:
            if r.partition is not None:
                p = r.partition
            elif r.key is not None:
                p = partitions[partition_for_key(r.key, n)]
            else:
                p = partitions[self._sticky]
            groups.setdefault(p, []).append(r)
        results: list[SendResult] = []
        pending = groups
        for attempt in range(self.retries + 1):
            failed: dict[int, list[ProducerRecord]] = {}
            for result in self._send_once(pending):
                if result.error is not None and result.error.retriable and attempt < self.retries:
                    failed[result.partition] = pending[result.partition]
                else:
                    results.append(result)
            if not failed:
                break
            time.sleep(min(0.1 * (attempt + 1), 1.0))
            self.cluster.topic(self.topic)
            pending = failed
        return sorted(results, key=lambda r: r.partition)

    def _send_once(self, groups: dict[int, list[ProducerRecord]]) -> list[SendResult]:
        by_leader: dict[int, dict[int, bytes]] = {}
        counts = {p: len(rs) for p, rs in groups.items()}
        out: list[SendResult] = []
        for p, rs in groups.items():
            try:
                leader = self.cluster.leader(self.topic, p)
            except KafkaError as exc:
                out.append(SendResult(p, -1, len(rs), exc))
                continue
            batch = build_simple_batch([(r.key, r.value, list(r.headers), r.timestamp) for r in rs],
                                       compression=self.compression)
            by_leader.setdefault(leader, {})[p] = batch
        for leader, batches in by_leader.items():
            request = m.ProduceRequest(
                transactional_id=None, acks=self.acks, timeout_ms=self.request_timeout_ms,
                topic_data=[m.ProduceRequest.TopicProduceData(
                    name=self.topic,
                    partition_data=[m.ProduceRequest.PartitionProduceData(index=p, records=b)
                                    for p, b in batches.items()])],
            )
            try:
                conn = self.cluster.connection(leader)
                if self.acks == 0:
                    conn.send(0, request, expect_response=False)
                    out += [SendResult(p, -1, counts[p]) for p in batches]
                    continue
                response = conn.request(0, request, timeout=self.request_timeout_ms / 1000 + conn.timeout)
            except (OSError, TimeoutError) as exc:
                err = KafkaError(ErrorCode.NETWORK_EXCEPTION, str(exc))
                out += [SendResult(p, -1, counts[p], err) for p in batches]
                continue
            for t in response.responses:
                for pr in t.partition_responses:
                    err = KafkaError(pr.error_code, pr.error_message) if pr.error_code else None
                    out.append(SendResult(pr.index, pr.base_offset, counts.get(pr.index, 0), err))
        return out


def acks_value(text: str) -> int:
    text = str(text).strip().lower()
    if text == "all":
        return -1
    value = int(text)
    if value not in (-1, 0, 1):
        raise ValueError(f"acks must be all, -1, 0 or 1, not {text}")
    return value


def compression_codec(name: str | None) -> int:
    if name is None:
        return Codec.NONE
    try:
        return COMPRESSION[name.lower()]
    except KeyError:
        raise ValueError(f"unknown compression codec {name!r} (none, gzip, snappy, lz4, zstd)") from None


def as_producer_records(entries: Any) -> list[ProducerRecord]:
    """Accept ProducerRecords, values, or (key, value[, headers]) tuples."""
    out = []
    for e in entries:
        if isinstance(e, ProducerRecord):
            out.append(e)
        elif isinstance(e, tuple):
            key, value, *rest = e
            out.append(ProducerRecord(value=_bytes(value), key=_bytes(key), headers=list(rest[0]) if rest else ()))
        else:
            out.append(ProducerRecord(value=_bytes(e)))
    return out


def _bytes(v: Any) -> bytes | None:
    if v is None or isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode()
    return bytes(v)
