"""Record batches, magic v2: a zero-copy header view, CRC32C checks, and offset patching.

The produce and fetch paths treat batches as bytes; this module reads and patches the fixed
61-byte header in place and never touches individual records unless asked.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterator

import crc32c as _crc32c

from protocol.errors import CorruptRecordError

# Header layout (all big-endian). The CRC covers everything from ATTRIBUTES to the batch end,
# so baseOffset and partitionLeaderEpoch can be rewritten without recomputing it.
BASE_OFFSET = 0
BATCH_LENGTH = 8
PARTITION_LEADER_EPOCH = 12
MAGIC = 16
CRC = 17
ATTRIBUTES = 21
LAST_OFFSET_DELTA = 23
BASE_TIMESTAMP = 27
MAX_TIMESTAMP = 35
PRODUCER_ID = 43
PRODUCER_EPOCH = 51
BASE_SEQUENCE = 53
RECORDS_COUNT = 57
HEADER_SIZE = 61
# baseOffset and batchLength precede the part that batchLength counts.
LOG_OVERHEAD = 12

CURRENT_MAGIC = 2

COMPRESSION_MASK = 0x07
TIMESTAMP_TYPE_MASK = 0x08
TRANSACTIONAL_FLAG = 0x10
CONTROL_FLAG = 0x20
DELETE_HORIZON_FLAG = 0x40

NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
NO_PARTITION_LEADER_EPOCH = -1

_HEADER = struct.Struct(">qiibIhiqqqhii")
_I64 = struct.Struct(">q")
_I32 = struct.Struct(">i")
_U32 = struct.Struct(">I")
_LEN_MAGIC = struct.Struct(">ib")  # batchLength, partitionLeaderEpoch skipped via offset math


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC32C (Castagnoli) as Kafka computes it for batch v2."""
    return _crc32c.crc32c(data)


@dataclass(slots=True, frozen=True)
class BatchHeader:
    """The decoded fixed header of one v2 record batch."""

    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    records_count: int

    @property
    def size(self) -> int:
        """Bytes the whole batch occupies, header included."""
        return self.batch_length + LOG_OVERHEAD

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.base_offset + self.last_offset_delta + 1

    @property
    def compression(self) -> int:
        return self.attributes & COMPRESSION_MASK

    @property
    def timestamp_type(self) -> int:
        """0 for CreateTime, 1 for LogAppendTime."""
        return (self.attributes & TIMESTAMP_TYPE_MASK) >> 3

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & TRANSACTIONAL_FLAG)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & CONTROL_FLAG)

    @property
    def has_delete_horizon(self) -> bool:
        return bool(self.attributes & DELETE_HORIZON_FLAG)

    @property
    def last_sequence(self) -> int:
        if self.base_sequence == NO_SEQUENCE:
            return NO_SEQUENCE
        # Sequences wrap at int32 max, as in Kafka.
        return (self.base_sequence + self.last_offset_delta) % (1 << 31)


def read_header(buf: bytes | bytearray | memoryview, pos: int = 0) -> BatchHeader:
    """Decode the header of the batch at `pos`. Raises CorruptRecordError if it is truncated."""
    if len(buf) - pos < HEADER_SIZE:
        raise CorruptRecordError("record batch header is truncated")
    return BatchHeader(*_HEADER.unpack_from(buf, pos))


def batch_size_at(buf: bytes | bytearray | memoryview, pos: int = 0) -> int:
    """Total size of the batch starting at `pos` from its length field (header included)."""
    if len(buf) - pos < LOG_OVERHEAD:
        raise CorruptRecordError("record batch length is truncated")
    return _I32.unpack_from(buf, pos + BATCH_LENGTH)[0] + LOG_OVERHEAD


def compute_crc(buf: bytes | bytearray | memoryview, pos: int, size: int) -> int:
    """CRC32C of the batch of `size` bytes at `pos`, over attributes..end."""
    view = buf if isinstance(buf, memoryview) else memoryview(buf)
    return _crc32c.crc32c(view[pos + ATTRIBUTES : pos + size])


def validate_batch(buf: bytes | bytearray | memoryview, pos: int = 0) -> BatchHeader:
    """Check magic, length, CRC32C and record count of the batch at `pos`; return its header.

    Raises CorruptRecordError naming the first check that fails.
    """
    header = read_header(buf, pos)
    if header.magic != CURRENT_MAGIC:
        raise CorruptRecordError(f"unsupported record batch magic {header.magic}")
    size = header.batch_length + LOG_OVERHEAD
    if header.batch_length < HEADER_SIZE - LOG_OVERHEAD:
        raise CorruptRecordError(f"record batch length {header.batch_length} is too small")
    if len(buf) - pos < size:
        raise CorruptRecordError("record batch is truncated")
    if header.last_offset_delta < 0:
        raise CorruptRecordError("negative lastOffsetDelta")
    if header.records_count < 0:
        raise CorruptRecordError("negative record count")
    if compute_crc(buf, pos, size) != header.crc:
        raise CorruptRecordError("record batch CRC32C mismatch")
    # A batch that has been compacted may have fewer records than its offset span, never more.
    if header.records_count > header.last_offset_delta + 1:
        raise CorruptRecordError("record count exceeds lastOffsetDelta + 1")
    return header


def iter_batch_positions(buf: bytes | bytearray | memoryview) -> Iterator[tuple[int, int]]:
    """Yield (position, size) of each complete batch in `buf`; stops at a trailing partial one."""
    pos = 0
    end = len(buf)
    while end - pos >= LOG_OVERHEAD:
        size = _I32.unpack_from(buf, pos + BATCH_LENGTH)[0] + LOG_OVERHEAD
        if size < HEADER_SIZE or end - pos < size:
            return
        yield pos, size
        pos += size


def set_base_offset(buf: bytearray | memoryview, pos: int, base_offset: int) -> None:
    """Write baseOffset into the batch header at `pos` (not covered by the CRC)."""
    _I64.pack_into(buf, pos + BASE_OFFSET, base_offset)


def set_partition_leader_epoch(buf: bytearray | memoryview, pos: int, epoch: int) -> None:
    """Write partitionLeaderEpoch into the batch header at `pos` (not covered by the CRC)."""
    _I32.pack_into(buf, pos + PARTITION_LEADER_EPOCH, epoch)


def set_max_timestamp_log_append(buf: bytearray | memoryview, pos: int, size: int, ts: int) -> None:
    """Stamp LogAppendTime: set the timestamp-type bit and maxTimestamp, then recompute the CRC.

    Kafka leaves the per-record timestamps as they are; readers take maxTimestamp for every
    record of a LogAppendTime batch.
    """
    attrs = struct.unpack_from(">h", buf, pos + ATTRIBUTES)[0] | TIMESTAMP_TYPE_MASK
    struct.pack_into(">h", buf, pos + ATTRIBUTES, attrs)
    _I64.pack_into(buf, pos + MAX_TIMESTAMP, ts)
    _U32.pack_into(buf, pos + CRC, compute_crc(buf, pos, size))
