"""Produce-path validation of a payload of v2 batches, on plain header tuples.

It applies exactly the checks of `protocol.records.validate_batch` (tests assert both agree on
every input) but skips building a BatchHeader per batch, which costs as much as the CRC of a
64 KiB batch on the append path.
"""

from __future__ import annotations

import struct

from protocol.errors import CorruptRecordError
from protocol.records import (
    ATTRIBUTES as ATTRIBUTES_POS, COMPRESSION_MASK, CURRENT_MAGIC, HEADER_SIZE, LOG_OVERHEAD, crc32c,
)

# baseOffset, batchLength, partitionLeaderEpoch, magic, crc, attributes, lastOffsetDelta,
# baseTimestamp, maxTimestamp, producerId, producerEpoch, baseSequence, recordsCount
HEADER = struct.Struct(">qiibIhiqqqhii")
BASE_OFFSET, BATCH_LENGTH, LEADER_EPOCH, MAGIC, CRC, ATTRIBUTES, LAST_OFFSET_DELTA = range(7)
BASE_TIMESTAMP, MAX_TIMESTAMP, PRODUCER_ID, PRODUCER_EPOCH, BASE_SEQUENCE, RECORDS_COUNT = range(7, 13)
MAX_CODEC = 4
INT32_MAX = (1 << 31) - 1

Header = tuple[int, int, int, int, int, int, int, int, int, int, int, int, int]


class BatchTooLarge(Exception):
    """A valid batch larger than the caller's limit; `size` is its size."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def validate_payload(view: memoryview, max_batch_size: int | None = None) -> list[tuple[int, int, Header]]:
    """(position, size, header tuple) of every batch; raises CorruptRecordError at the first
    batch validate_batch would reject, or at trailing bytes that are not a whole batch, and
    BatchTooLarge for a valid batch above `max_batch_size`."""
    out = []
    pos = 0
    end = len(view)
    unpack = HEADER.unpack_from
    while pos < end:
        if end - pos < HEADER_SIZE:
            raise CorruptRecordError("record batch header is truncated")
        h = unpack(view, pos)
        if h[MAGIC] != CURRENT_MAGIC:
            raise CorruptRecordError(f"unsupported record batch magic {h[MAGIC]}")
        length = h[BATCH_LENGTH]
        if length < HEADER_SIZE - LOG_OVERHEAD:
            raise CorruptRecordError(f"record batch length {length} is too small")
        size = length + LOG_OVERHEAD
        if end - pos < size:
            raise CorruptRecordError("record batch is truncated")
        delta = h[LAST_OFFSET_DELTA]
        if delta < 0:
            raise CorruptRecordError("negative lastOffsetDelta")
        count = h[RECORDS_COUNT]
        if count < 0:
            raise CorruptRecordError("negative record count")
        if count > delta + 1:
            raise CorruptRecordError("record count exceeds lastOffsetDelta + 1")
        if h[ATTRIBUTES] & COMPRESSION_MASK > MAX_CODEC:
            raise CorruptRecordError(f"unknown compression codec {h[ATTRIBUTES] & COMPRESSION_MASK}")
        if crc32c(view[pos + ATTRIBUTES_POS:pos + size]) != h[CRC]:
            raise CorruptRecordError("record batch CRC32C mismatch")
        if max_batch_size is not None and size > max_batch_size:
            raise BatchTooLarge(size)
        out.append((pos, size, h))
        pos += size
    return out


def last_sequence(base_sequence: int, last_offset_delta: int) -> int:
    """The batch's last sequence; sequences wrap at Int.MAX as in Kafka."""
    if base_sequence == -1:
        return -1
    return (base_sequence + last_offset_delta) % (INT32_MAX + 1)
