"""Which internal-topic partition coordinates a group or transactional id: Kafka's hash."""

from __future__ import annotations

_INT_MIN = -(1 << 31)


def java_string_hash(s: str) -> int:
    """Java's `String.hashCode()`: 31*h + c over UTF-16 code units, in 32-bit signed arithmetic."""
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def java_abs(n: int) -> int:
    """Kafka's `Utils.abs`: like Math.abs, but Integer.MIN_VALUE maps to 0, not to itself."""
    return 0 if n == _INT_MIN else abs(n)


def partition_for(key: str, num_partitions: int) -> int:
    """The partition of a group id in `__consumer_offsets`, or of a transactional id in
    `__transaction_state`."""
    if num_partitions <= 0:
        raise ValueError("num_partitions must be positive")
    return java_abs(java_string_hash(key)) % num_partitions
