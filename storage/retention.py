"""Which segments retention may delete: by time (retention.ms), by size (retention.bytes) and
below the log start offset, following Kafka's rules.

Only a prefix of the log is ever deleted, and only segments wholly below the high watermark
(for the active segment: the log end offset), and never an empty active segment.
"""

from __future__ import annotations

from typing import Callable

from storage.segment import Segment

Predicate = Callable[[Segment, int], bool]


def _deletable(segments: list[Segment], log_end: int, high_watermark: int, predicate: Predicate) -> list[Segment]:
    out = []
    n = len(segments)
    for i, seg in enumerate(segments):
        upper = segments[i + 1].base_offset if i + 1 < n else log_end
        if i == n - 1 and seg.size == 0:
            break
        if high_watermark < upper or not predicate(seg, upper):
            break
        out.append(seg)
    return out


def time_breached(segments: list[Segment], log_end: int, high_watermark: int, retention_ms: int, now_ms: int) -> list[Segment]:
    """Segments whose newest batch timestamp is older than retention.ms."""
    if retention_ms < 0:
        return []
    return _deletable(segments, log_end, high_watermark,
                      lambda seg, _upper: now_ms - seg.largest_timestamp() > retention_ms)


def size_breached(segments: list[Segment], log_end: int, high_watermark: int, retention_bytes: int) -> list[Segment]:
    """Oldest segments whose removal keeps the log at or above retention.bytes."""
    if retention_bytes < 0:
        return []
    excess = sum(s.size for s in segments) - retention_bytes
    if excess <= 0:
        return []

    def predicate(seg: Segment, _upper: int) -> bool:
        nonlocal excess
        if excess - seg.size >= 0:
            excess -= seg.size
            return True
        return False

    return _deletable(segments, log_end, high_watermark, predicate)


def log_start_breached(segments: list[Segment], log_end: int, high_watermark: int, log_start: int) -> list[Segment]:
    """Segments wholly below the log start offset (after DeleteRecords)."""
    return _deletable(segments, log_end, high_watermark, lambda _seg, upper: upper <= log_start)
