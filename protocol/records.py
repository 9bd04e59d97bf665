"""Record batches, magic v2: a zero-copy header view, CRC32C checks, offset patching, and
record decoding, batch building and control (transaction marker) records when asked.

The produce and fetch paths treat batches as bytes; only decode_batch looks at records.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Iterable, Iterator, NamedTuple, Sequence

import crc32c as _crc32c

from protocol.compression import DEFAULT_MAX_DECOMPRESSED_SIZE, Codec, compress, decompress
from protocol.errors import CorruptRecordError, EncodeError

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
_MAX_CODEC = max(Codec)


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC32C (Castagnoli) as Kafka computes it for batch v2."""
    return _crc32c.crc32c(data)


class BatchHeader(NamedTuple):
    """The decoded fixed header of one v2 record batch.

    A named tuple: building one per batch on the produce path costs a fraction of a frozen
    dataclass, and it still reads like one.
    """

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
        return last_sequence(self.base_sequence, self.last_offset_delta)


# tuple.__new__ straight away: NamedTuple's own _make is a Python-level function call.
_new_tuple = tuple.__new__
_MIN_BATCH_LENGTH = HEADER_SIZE - LOG_OVERHEAD


def last_sequence(base_sequence: int, last_offset_delta: int) -> int:
    """A batch's last sequence number; sequences wrap at Int.MAX as in Kafka."""
    if base_sequence == NO_SEQUENCE:
        return NO_SEQUENCE
    return (base_sequence + last_offset_delta) % (1 << 31)


def read_header(buf: bytes | bytearray | memoryview, pos: int = 0) -> BatchHeader:
    """Decode the header of the batch at `pos`. Raises CorruptRecordError if it is truncated."""
    if len(buf) - pos < HEADER_SIZE:
        raise CorruptRecordError("record batch header is truncated")
    return _new_tuple(BatchHeader, _HEADER.unpack_from(buf, pos))


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
    header = check_batch_structure(buf, pos)
    view = buf if isinstance(buf, memoryview) else memoryview(buf)
    if _crc32c.crc32c(view[pos + ATTRIBUTES : pos + header[1] + LOG_OVERHEAD]) != header[4]:
        raise CorruptRecordError("record batch CRC32C mismatch")
    return header


def check_batch_structure(buf: bytes | bytearray | memoryview, pos: int = 0) -> BatchHeader:
    """Every check of validate_batch except the CRC: for bytes already validated once."""
    # On the produce path for every batch: one unpack, all checks in one expression, and the
    # reason worked out only for a batch that fails.
    available = len(buf) - pos
    if available < HEADER_SIZE:
        raise CorruptRecordError("record batch header is truncated")
    h = _new_tuple(BatchHeader, _HEADER.unpack_from(buf, pos))
    delta = h[6]
    count = h[12]
    if (
        h[3] != CURRENT_MAGIC or h[1] < _MIN_BATCH_LENGTH or available < h[1] + LOG_OVERHEAD
        or delta < 0 or count < 0 or count > delta + 1 or h[5] & COMPRESSION_MASK > _MAX_CODEC
    ):
        raise CorruptRecordError(_structure_problem(h, available))
    return h


def _structure_problem(header: BatchHeader, available: int) -> str:
    """Why a batch header fails check_batch_structure, in the order the checks are made."""
    if header.magic != CURRENT_MAGIC:
        return f"unsupported record batch magic {header.magic}"
    if header.batch_length < _MIN_BATCH_LENGTH:
        return f"record batch length {header.batch_length} is too small"
    if available < header.batch_length + LOG_OVERHEAD:
        return "record batch is truncated"
    if header.last_offset_delta < 0:
        return "negative lastOffsetDelta"
    if header.records_count < 0:
        return "negative record count"
    # A batch that has been compacted may have fewer records than its offset span, never more.
    if header.records_count > header.last_offset_delta + 1:
        return "record count exceeds lastOffsetDelta + 1"
    return f"unknown compression codec {header.attributes & COMPRESSION_MASK}"


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


def iter_batches(buf: bytes | bytearray | memoryview) -> Iterator[tuple[int, BatchHeader]]:
    """Yield (position, header) of each complete batch in `buf`, unvalidated."""
    for pos, _size in iter_batch_positions(buf):
        yield pos, read_header(buf, pos)


def validate_batches(buf: bytes | bytearray | memoryview) -> list[tuple[int, BatchHeader]]:
    """Validate every batch of a produce payload; return (position, header) for each.

    Unlike a fetch response, a produce payload must be whole batches only: a trailing partial
    batch raises CorruptRecordError like any other defect.
    """
    found = []
    pos = 0
    end = len(buf)
    while pos < end:
        header = validate_batch(buf, pos)
        found.append((pos, header))
        pos += header.size
    return found


# --- records --------------------------------------------------------------------------------

Header = tuple[str, bytes | None]

# length, attributes, timestampDelta, offsetDelta, keyLength, valueLength, headerCount: one
# byte each at the least.
MIN_RECORD_SIZE = 7
_MIN_HEADER_SIZE = 2
_UINT32 = (1 << 32) - 1
_UINT64 = (1 << 64) - 1
_INT32_MAX = (1 << 31) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


@dataclass(slots=True)
class Record:
    """One record of a v2 batch; offset and timestamp are relative to the batch header."""

    offset_delta: int
    timestamp_delta: int
    key: bytes | None = None
    value: bytes | None = None
    headers: list[Header] = field(default_factory=list)
    # Unused by Kafka so far, but kept so that a record survives a decode/encode round trip.
    attributes: int = 0


def record_offset(header: BatchHeader, record: Record) -> int:
    return header.base_offset + record.offset_delta


def record_timestamp(header: BatchHeader, record: Record) -> int:
    """The record's timestamp as consumers see it: LogAppendTime batches use maxTimestamp."""
    if header.timestamp_type == 1:
        return header.max_timestamp
    return header.base_timestamp + record.timestamp_delta


def records_data(
    buf: bytes | bytearray | memoryview,
    pos: int = 0,
    header: BatchHeader | None = None,
    *,
    max_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
) -> bytes:
    """The records section of the batch at `pos`, decompressed (at most `max_size` bytes)."""
    if header is None:
        header = check_batch_structure(buf, pos)
    view = buf if isinstance(buf, memoryview) else memoryview(buf)
    raw = view[pos + HEADER_SIZE : pos + header.size]
    codec = header.compression
    if codec == Codec.NONE or (not raw and header.records_count == 0):
        return bytes(raw)
    return decompress(codec, raw, max_size)


def decode_batch(
    buf: bytes | bytearray | memoryview,
    pos: int = 0,
    *,
    max_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
    verify_crc: bool = True,
) -> tuple[BatchHeader, list[Record]]:
    """Validate the batch at `pos` and decode its header and every record.

    Raises CorruptRecordError for anything malformed, including a records section that does
    not hold exactly recordsCount records.
    """
    header = validate_batch(buf, pos) if verify_crc else check_batch_structure(buf, pos)
    data = records_data(buf, pos, header, max_size=max_size)
    return header, decode_record_section(data, header.records_count)


def decode_records(
    buf: bytes | bytearray | memoryview,
    pos: int = 0,
    *,
    max_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
    verify_crc: bool = True,
) -> list[Record]:
    """The records of the batch at `pos`; see decode_batch."""
    return decode_batch(buf, pos, max_size=max_size, verify_crc=verify_crc)[1]


def decode_record_section(data: bytes, count: int) -> list[Record]:
    """Decode exactly `count` records that fill `data` (an uncompressed records section)."""
    end = len(data)
    if count < 0 or count * MIN_RECORD_SIZE > end:
        raise CorruptRecordError(f"{end} bytes cannot hold {count} records")
    records = []
    pos = 0
    for _ in range(count):
        length, pos = _read_varint(data, pos, end)
        if length < MIN_RECORD_SIZE - 1 or length > end - pos:
            raise CorruptRecordError(f"record length {length} does not fit the batch")
        record_end = pos + length
        record, pos = _decode_record(data, pos, record_end)
        if pos != record_end:
            raise CorruptRecordError("record length does not match its contents")
        records.append(record)
    if pos != end:
        raise CorruptRecordError(f"{end - pos} bytes left after the last record")
    return records


def _decode_record(data: bytes, pos: int, end: int) -> tuple[Record, int]:
    attributes = data[pos]
    if attributes > 127:
        attributes -= 256
    timestamp_delta, pos = _read_varlong(data, pos + 1, end)
    offset_delta, pos = _read_varint(data, pos, end)
    key, pos = _read_nullable_bytes(data, pos, end)
    value, pos = _read_nullable_bytes(data, pos, end)
    header_count, pos = _read_varint(data, pos, end)
    if header_count < 0 or header_count * _MIN_HEADER_SIZE > end - pos:
        raise CorruptRecordError(f"invalid record header count {header_count}")
    headers = []
    for _ in range(header_count):
        name_length, pos = _read_varint(data, pos, end)
        if name_length < 0 or name_length > end - pos:
            raise CorruptRecordError(f"invalid record header key length {name_length}")
        try:
            name = data[pos : pos + name_length].decode("utf-8")
        except UnicodeDecodeError:
            raise CorruptRecordError("record header key is not valid UTF-8") from None
        header_value, pos = _read_nullable_bytes(data, pos + name_length, end)
        headers.append((name, header_value))
    return Record(offset_delta, timestamp_delta, key, value, headers, attributes), pos


def _read_nullable_bytes(data: bytes, pos: int, end: int) -> tuple[bytes | None, int]:
    length, pos = _read_varint(data, pos, end)
    if length == -1:
        return None, pos
    if length < 0 or length > end - pos:
        raise CorruptRecordError(f"invalid record field length {length}")
    return data[pos : pos + length], pos + length


def _read_varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Kafka's varint: a zig-zag int32 in at most 5 bytes; high bits past 32 drop as in Java."""
    if pos < end:
        byte = data[pos]
        if byte < 0x80:
            return (byte >> 1) ^ -(byte & 1), pos + 1
    raw, pos = _read_unsigned_varint(data, pos, end, 5)
    raw &= _UINT32
    return (raw >> 1) ^ -(raw & 1), pos


def _read_varlong(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Kafka's varlong: a zig-zag int64 in at most 10 bytes."""
    raw, pos = _read_unsigned_varint(data, pos, end, 10)
    raw &= _UINT64
    return (raw >> 1) ^ -(raw & 1), pos


def _read_unsigned_varint(data: bytes, pos: int, end: int, max_bytes: int) -> tuple[int, int]:
    raw = 0
    shift = 0
    limit = min(end, pos + max_bytes)
    while pos < limit:
        byte = data[pos]
        pos += 1
        raw |= (byte & 0x7F) << shift
        if byte < 0x80:
            return raw, pos
        shift += 7
    if pos >= end:
        raise CorruptRecordError("varint runs past the end of the record")
    raise CorruptRecordError("varint is too long")


def _write_varint(out: bytearray, value: int) -> None:
    """Zig-zag encode an int32 or int64 (the two agree on their common range)."""
    raw = (value << 1) ^ (value >> 63)
    while raw >= 0x80:
        out.append((raw & 0x7F) | 0x80)
        raw >>= 7
    out.append(raw)


def _write_nullable_bytes(out: bytearray, data: bytes | bytearray | memoryview | None) -> None:
    if data is None:
        out.append(1)  # zig-zag -1
        return
    if len(data) > _INT32_MAX:
        raise EncodeError("record field is longer than 2 GiB")
    _write_varint(out, len(data))
    out += data


# --- building batches ---------------------------------------------------------------------


def encode_record(record: Record, out: bytearray) -> None:
    """Append one length-prefixed record to `out`."""
    if not 0 <= record.offset_delta <= _INT32_MAX:
        raise EncodeError(f"offset delta {record.offset_delta} is out of range")
    if not _INT64_MIN <= record.timestamp_delta <= _INT64_MAX:
        raise EncodeError(f"timestamp delta {record.timestamp_delta} is out of range")
    if not -128 <= record.attributes <= 127:
        raise EncodeError(f"record attributes {record.attributes} do not fit an int8")
    body = bytearray((record.attributes & 0xFF,))
    _write_varint(body, record.timestamp_delta)
    _write_varint(body, record.offset_delta)
    _write_nullable_bytes(body, record.key)
    _write_nullable_bytes(body, record.value)
    _write_varint(body, len(record.headers))
    for name, value in record.headers:
        encoded = name.encode("utf-8")
        _write_varint(body, len(encoded))
        body += encoded
        _write_nullable_bytes(body, value)
    if len(body) > _INT32_MAX:
        raise EncodeError("record is longer than 2 GiB")
    _write_varint(out, len(body))
    out += body


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def build_batch(
    records: Iterable[Record],
    *,
    base_offset: int = 0,
    compression: int = Codec.NONE,
    producer_id: int = NO_PRODUCER_ID,
    producer_epoch: int = NO_PRODUCER_EPOCH,
    base_sequence: int = NO_SEQUENCE,
    is_transactional: bool = False,
    is_control: bool = False,
    has_delete_horizon: bool = False,
    partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
    timestamp_type: int = 0,
    base_timestamp: int | None = None,
    max_timestamp: int | None = None,
    last_offset_delta: int | None = None,
) -> bytes:
    """Encode `records` as one v2 batch with a correct CRC, count and offset/time summary.

    base_timestamp defaults to now (-1 for an empty batch); max_timestamp to the largest
    record timestamp; last_offset_delta to the largest offset delta (0 for an empty batch).
    The requested codec is always applied, even when it does not shrink the records.
    """
    records = list(records)
    if timestamp_type not in (0, 1):
        raise EncodeError(f"timestamp type {timestamp_type} is neither 0 nor 1")
    if compression not in _CODECS:
        raise EncodeError(f"unknown compression codec {compression}")
    if base_timestamp is None:
        base_timestamp = now_ms() if records else -1
    if max_timestamp is None:
        max_delta = max((r.timestamp_delta for r in records), default=None)
        max_timestamp = -1 if max_delta is None else base_timestamp + max_delta
    if last_offset_delta is None:
        last_offset_delta = max((r.offset_delta for r in records), default=0)

    section = bytearray()
    for record in records:
        encode_record(record, section)
    payload = compress(compression, section) if compression != Codec.NONE else section

    attributes = (
        compression
        | (timestamp_type << 3)
        | (TRANSACTIONAL_FLAG if is_transactional else 0)
        | (CONTROL_FLAG if is_control else 0)
        | (DELETE_HORIZON_FLAG if has_delete_horizon else 0)
    )
    out = bytearray(HEADER_SIZE)
    try:
        _HEADER.pack_into(
            out, 0, base_offset, HEADER_SIZE - LOG_OVERHEAD + len(payload),
            partition_leader_epoch, CURRENT_MAGIC, 0, attributes, last_offset_delta,
            base_timestamp, max_timestamp, producer_id, producer_epoch, base_sequence,
            len(records),
        )  # fmt: skip
    except struct.error as exc:
        raise EncodeError(f"record batch header field out of range: {exc}") from None
    out += payload
    _U32.pack_into(out, CRC, compute_crc(out, 0, len(out)))
    return bytes(out)


_CODECS = frozenset(int(c) for c in Codec)

SimpleEntry = (
    tuple[bytes | None, bytes | None]
    | tuple[bytes | None, bytes | None, Sequence[Header]]
    | tuple[bytes | None, bytes | None, Sequence[Header], int | None]
)


def build_simple_batch(entries: Iterable[SimpleEntry], **options) -> bytes:
    """Build a batch from (key, value[, headers[, timestamp]]) tuples, as a producer would.

    Offsets count up from 0; timestamps default to now, and the first record's timestamp is
    the batch base timestamp unless `base_timestamp` is given. Other keyword arguments go to
    build_batch.
    """
    now = now_ms()
    rows = []
    for entry in entries:
        entry = tuple(entry)
        if not 2 <= len(entry) <= 4:
            raise EncodeError(f"expected (key, value[, headers[, timestamp]]), got {entry!r}")
        key, value, headers, timestamp = entry + ((), None)[len(entry) - 2 :]
        rows.append((key, value, list(headers), now if timestamp is None else timestamp))
    base = options.pop("base_timestamp", None)
    if base is None:
        base = rows[0][3] if rows else -1
    records = [
        Record(i, timestamp - base, key, value, headers)
        for i, (key, value, headers, timestamp) in enumerate(rows)
    ]
    return build_batch(records, base_timestamp=base, **options)


# --- control records ------------------------------------------------------------------------


class ControlType(IntEnum):
    """The type in a control record's key."""

    ABORT = 0
    COMMIT = 1
    LEADER_CHANGE = 2
    SNAPSHOT_HEADER = 3
    SNAPSHOT_FOOTER = 4
    KRAFT_VERSION = 5
    KRAFT_VOTERS = 6


CONTROL_KEY_VERSION = 0
END_TXN_MARKER_VERSION = 0
_CONTROL_KEY = struct.Struct(">hh")
_END_TXN_VALUE = struct.Struct(">hi")


@dataclass(slots=True, frozen=True)
class EndTxnMarker:
    """A transaction marker: the COMMIT or ABORT control record a coordinator writes."""

    control_type: ControlType
    coordinator_epoch: int

    @property
    def is_commit(self) -> bool:
        return self.control_type == ControlType.COMMIT


def control_key(control_type: int, version: int = CONTROL_KEY_VERSION) -> bytes:
    return _CONTROL_KEY.pack(version, control_type)


def parse_control_key(key: bytes | None) -> tuple[int, int]:
    """(version, type) of a control record key; the type may be one ControlType lacks."""
    if key is None or len(key) < _CONTROL_KEY.size:
        raise CorruptRecordError("control record key is shorter than 4 bytes")
    version, control_type = _CONTROL_KEY.unpack_from(key)
    if version < 0:
        raise CorruptRecordError(f"invalid control record key version {version}")
    return version, control_type


def control_record(
    control_type: int, value: bytes | None, offset_delta: int = 0, timestamp_delta: int = 0
) -> Record:
    """A control record of any type, for build_batch(..., is_control=True)."""
    return Record(offset_delta, timestamp_delta, control_key(control_type), value)


def end_txn_marker_value(coordinator_epoch: int) -> bytes:
    return _END_TXN_VALUE.pack(END_TXN_MARKER_VERSION, coordinator_epoch)


def parse_end_txn_marker(record: Record) -> EndTxnMarker:
    """Read a COMMIT or ABORT control record; any other record raises CorruptRecordError."""
    _version, control_type = parse_control_key(record.key)
    if control_type not in (ControlType.ABORT, ControlType.COMMIT):
        raise CorruptRecordError(f"control record type {control_type} is not a txn marker")
    value = record.value
    if value is None or len(value) < _END_TXN_VALUE.size:
        raise CorruptRecordError("transaction marker value is shorter than 6 bytes")
    # Later value versions only append fields, so any version reads as version 0.
    version, coordinator_epoch = _END_TXN_VALUE.unpack_from(value)
    if version < 0:
        raise CorruptRecordError(f"invalid transaction marker version {version}")
    return EndTxnMarker(ControlType(control_type), coordinator_epoch)


def build_end_txn_batch(
    control_type: ControlType,
    *,
    producer_id: int,
    producer_epoch: int,
    coordinator_epoch: int,
    base_offset: int = 0,
    timestamp: int | None = None,
    partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
) -> bytes:
    """The one-record control batch that commits or aborts a producer's transaction."""
    if control_type not in (ControlType.ABORT, ControlType.COMMIT):
        raise EncodeError(f"control type {control_type} is not COMMIT or ABORT")
    record = control_record(control_type, end_txn_marker_value(coordinator_epoch))
    return build_batch(
        [record],
        base_offset=base_offset,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=NO_SEQUENCE,
        is_transactional=True,
        is_control=True,
        partition_leader_epoch=partition_leader_epoch,
        base_timestamp=now_ms() if timestamp is None else timestamp,
    )
