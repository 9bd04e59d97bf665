"""Produce-path validation of a payload of v2 batches, with the size limit storage enforces.

The checks are protocol.records.validate_batch's; headers are BatchHeader named tuples, which
storage reads by field index on its hot path.
"""

from __future__ import annotations

from protocol.records import BatchHeader, last_sequence, validate_batch

# Field positions in a BatchHeader tuple.
BASE_OFFSET, BATCH_LENGTH, LEADER_EPOCH, MAGIC, CRC, ATTRIBUTES, LAST_OFFSET_DELTA = range(7)
BASE_TIMESTAMP, MAX_TIMESTAMP, PRODUCER_ID, PRODUCER_EPOCH, BASE_SEQUENCE, RECORDS_COUNT = range(7, 13)

Header = BatchHeader

__all__ = ["BatchTooLarge", "Header", "last_sequence", "validate_payload"]


class BatchTooLarge(Exception):
    """A valid batch larger than the caller's limit; `size` is its size."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def validate_payload(view: memoryview, max_batch_size: int | None = None) -> list[tuple[int, int, Header]]:
    """(position, size, header) of every batch; raises CorruptRecordError at the first invalid
    batch or at trailing bytes that are not a whole batch, and BatchTooLarge for a valid batch
    above `max_batch_size`."""
    out = []
    pos = 0
    end = len(view)
    while pos < end:
        h = validate_batch(view, pos)
        size = h[BATCH_LENGTH] + 12
        if max_batch_size is not None and size > max_batch_size:
            raise BatchTooLarge(size)
        out.append((pos, size, h))
        pos += size
    return out
