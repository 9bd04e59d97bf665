"""Primitive types of the Kafka protocol: fixed-width integers, varints, strings, bytes, uuids.

Readers take `(buf, pos)` and return `(value, new_pos)`; writers append to a bytearray. Every
reader checks lengths against the bytes that remain before slicing or allocating, and raises
DecodeError for anything that does not fit.
"""

from __future__ import annotations

import struct
import uuid
from typing import Any

from protocol.errors import DecodeError

INT8 = struct.Struct(">b")
INT16 = struct.Struct(">h")
INT32 = struct.Struct(">i")
INT64 = struct.Struct(">q")
UINT16 = struct.Struct(">H")
UINT32 = struct.Struct(">I")
FLOAT64 = struct.Struct(">d")
BOOL = struct.Struct(">?")

# struct format letter and width of each fixed-width primitive; runs of them are read with
# one precompiled struct.
FIXED = {
    "int8": ("b", 1),
    "int16": ("h", 2),
    "int32": ("i", 4),
    "int64": ("q", 8),
    "uint16": ("H", 2),
    "uint32": ("I", 4),
    "float64": ("d", 8),
    "bool": ("?", 1),
}

ZERO_UUID = uuid.UUID(int=0)

Buffer = bytes | bytearray | memoryview

# Unsigned varints below 128 are one byte; precomputing them keeps small lengths cheap.
_SMALL_UVARINTS = [bytes((i,)) for i in range(128)]


# --- varints -------------------------------------------------------------------------------

def read_uvarint(buf: Buffer, pos: int) -> tuple[int, int]:
    """Unsigned LEB128 varint, at most 5 bytes (32 bits) as Kafka's unsigned varints are."""
    try:
        b = buf[pos]
    except IndexError:
        raise DecodeError("varint is truncated") from None
    if b < 0x80:
        return b, pos + 1
    result = b & 0x7F
    shift = 7
    pos += 1
    while True:
        try:
            b = buf[pos]
        except IndexError:
            raise DecodeError("varint is truncated") from None
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 28:
            raise DecodeError("varint is longer than 5 bytes")


def read_uvarlong(buf: Buffer, pos: int) -> tuple[int, int]:
    """Unsigned varint of up to 10 bytes (64 bits)."""
    result = 0
    shift = 0
    while True:
        try:
            b = buf[pos]
        except IndexError:
            raise DecodeError("varlong is truncated") from None
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varlong is longer than 10 bytes")


def read_varint(buf: Buffer, pos: int) -> tuple[int, int]:
    """Zig-zag signed 32-bit varint."""
    v, pos = read_uvarint(buf, pos)
    return (v >> 1) ^ -(v & 1), pos


def read_varlong(buf: Buffer, pos: int) -> tuple[int, int]:
    """Zig-zag signed 64-bit varint."""
    v, pos = read_uvarlong(buf, pos)
    return (v >> 1) ^ -(v & 1), pos


def uvarint_bytes(n: int) -> bytes:
    if n < 128:
        return _SMALL_UVARINTS[n]
    if n < 0:
        raise OverflowError("unsigned varint cannot be negative")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def varint_bytes(n: int) -> bytes:
    """Zig-zag encoding of a signed 32-bit integer."""
    if not -(1 << 31) <= n < (1 << 31):
        raise OverflowError("varint out of range")
    return uvarint_bytes((n << 1) ^ (n >> 31))


def varlong_bytes(n: int) -> bytes:
    """Zig-zag encoding of a signed 64-bit integer."""
    if not -(1 << 63) <= n < (1 << 63):
        raise OverflowError("varlong out of range")
    return uvarint_bytes((n << 1) ^ (n >> 63))


# --- readers -------------------------------------------------------------------------------

def _take(buf: Buffer, pos: int, n: int, what: str) -> tuple[Buffer, int]:
    end = pos + n
    if end > len(buf):
        raise DecodeError(f"{what} of {n} bytes runs past the end of the message")
    return buf[pos:end], end


def _text(raw: Buffer) -> str:
    try:
        return str(raw, "utf-8")
    except UnicodeDecodeError:
        raise DecodeError("string is not valid UTF-8") from None


def read_string(buf: Buffer, pos: int) -> tuple[str, int]:
    (n,) = INT16.unpack_from(buf, pos)
    if n < 0:
        raise DecodeError("null string where a string is required")
    raw, pos = _take(buf, pos + 2, n, "string")
    return _text(raw), pos


def read_nullable_string(buf: Buffer, pos: int) -> tuple[str | None, int]:
    (n,) = INT16.unpack_from(buf, pos)
    if n < 0:
        if n != -1:
            raise DecodeError(f"invalid string length {n}")
        return None, pos + 2
    raw, pos = _take(buf, pos + 2, n, "string")
    return _text(raw), pos


def read_compact_string(buf: Buffer, pos: int) -> tuple[str, int]:
    n, pos = read_uvarint(buf, pos)
    if n == 0:
        raise DecodeError("null string where a string is required")
    raw, pos = _take(buf, pos, n - 1, "string")
    return _text(raw), pos


def read_compact_nullable_string(buf: Buffer, pos: int) -> tuple[str | None, int]:
    n, pos = read_uvarint(buf, pos)
    if n == 0:
        return None, pos
    raw, pos = _take(buf, pos, n - 1, "string")
    return _text(raw), pos


def read_bytes(buf: Buffer, pos: int) -> tuple[bytes, int]:
    (n,) = INT32.unpack_from(buf, pos)
    if n < 0:
        raise DecodeError("null bytes where bytes are required")
    raw, pos = _take(buf, pos + 4, n, "bytes")
    return bytes(raw), pos


def read_nullable_bytes(buf: Buffer, pos: int) -> tuple[bytes | None, int]:
    (n,) = INT32.unpack_from(buf, pos)
    if n < 0:
        if n != -1:
            raise DecodeError(f"invalid bytes length {n}")
        return None, pos + 4
    raw, pos = _take(buf, pos + 4, n, "bytes")
    return bytes(raw), pos


def read_compact_bytes(buf: Buffer, pos: int) -> tuple[bytes, int]:
    n, pos = read_uvarint(buf, pos)
    if n == 0:
        raise DecodeError("null bytes where bytes are required")
    raw, pos = _take(buf, pos, n - 1, "bytes")
    return bytes(raw), pos


def read_compact_nullable_bytes(buf: Buffer, pos: int) -> tuple[bytes | None, int]:
    n, pos = read_uvarint(buf, pos)
    if n == 0:
        return None, pos
    raw, pos = _take(buf, pos, n - 1, "bytes")
    return bytes(raw), pos


def read_records(buf: Buffer, pos: int) -> tuple[Buffer | None, int]:
    """Record batches stay a zero-copy slice of the request buffer."""
    (n,) = INT32.unpack_from(buf, pos)
    if n < 0:
        if n != -1:
            raise DecodeError(f"invalid records length {n}")
        return None, pos + 4
    return _take(buf, pos + 4, n, "records")


def read_compact_records(buf: Buffer, pos: int) -> tuple[Buffer | None, int]:
    n, pos = read_uvarint(buf, pos)
    if n == 0:
        return None, pos
    return _take(buf, pos, n - 1, "records")


def read_uuid(buf: Buffer, pos: int) -> tuple[uuid.UUID, int]:
    raw, pos = _take(buf, pos, 16, "uuid")
    return uuid.UUID(bytes=bytes(raw)), pos


def read_array_length(buf: Buffer, pos: int, min_item: int) -> tuple[int, int]:
    """int32 count of a non-nullable array, checked against the bytes that remain."""
    (n,) = INT32.unpack_from(buf, pos)
    pos += 4
    if n < 0:
        raise DecodeError("null array where an array is required")
    if n * min_item > len(buf) - pos:
        raise DecodeError(f"array of {n} items cannot fit in the remaining bytes")
    return n, pos


def read_nullable_array_length(buf: Buffer, pos: int, min_item: int) -> tuple[int, int]:
    """int32 count of a nullable array; -1 for null."""
    (n,) = INT32.unpack_from(buf, pos)
    pos += 4
    if n < 0:
        if n != -1:
            raise DecodeError(f"invalid array length {n}")
        return -1, pos
    if n * min_item > len(buf) - pos:
        raise DecodeError(f"array of {n} items cannot fit in the remaining bytes")
    return n, pos


def read_compact_array_length(buf: Buffer, pos: int, min_item: int) -> tuple[int, int]:
    """Compact count (n + 1, 0 for null); returns -1 for null."""
    n, pos = read_uvarint(buf, pos)
    n -= 1
    if n > 0 and n * min_item > len(buf) - pos:
        raise DecodeError(f"array of {n} items cannot fit in the remaining bytes")
    return n, pos


def read_fixed_array(buf: Buffer, pos: int, n: int, letter: str, width: int) -> tuple[list, int]:
    """An array of n fixed-width primitives in one unpack."""
    end = pos + n * width
    if end > len(buf):
        raise DecodeError("array runs past the end of the message")
    return list(struct.unpack_from(f">{n}{letter}", buf, pos)), end


def skip_tagged(buf: Buffer, pos: int) -> tuple[int, int, int]:
    """Read one tagged field's tag and size; return (tag, start, end) of its value."""
    tag, pos = read_uvarint(buf, pos)
    size, pos = read_uvarint(buf, pos)
    end = pos + size
    if end > len(buf):
        raise DecodeError("tagged field runs past the end of the message")
    return tag, pos, end


# --- writers -------------------------------------------------------------------------------

def write_string(b: bytearray, s: str) -> None:
    raw = s.encode("utf-8")
    if len(raw) > 0x7FFF:
        raise OverflowError("string longer than 32767 bytes")
    b += INT16.pack(len(raw))
    b += raw


def write_nullable_string(b: bytearray, s: str | None) -> None:
    if s is None:
        b += b"\xff\xff"
    else:
        write_string(b, s)


def write_compact_string(b: bytearray, s: str) -> None:
    raw = s.encode("utf-8")
    b += uvarint_bytes(len(raw) + 1)
    b += raw


def write_compact_nullable_string(b: bytearray, s: str | None) -> None:
    if s is None:
        b += b"\x00"
    else:
        write_compact_string(b, s)


def write_bytes(b: bytearray, v: Buffer) -> None:
    b += INT32.pack(len(v))
    b += v


def write_nullable_bytes(b: bytearray, v: Buffer | None) -> None:
    if v is None:
        b += b"\xff\xff\xff\xff"
    else:
        write_bytes(b, v)


def write_compact_bytes(b: bytearray, v: Buffer) -> None:
    b += uvarint_bytes(len(v) + 1)
    b += v


def write_compact_nullable_bytes(b: bytearray, v: Buffer | None) -> None:
    if v is None:
        b += b"\x00"
    else:
        write_compact_bytes(b, v)


# Record payloads at least this large are spliced into the output instead of copied.
SPLICE_THRESHOLD = 4096


def _records_size(v: Any) -> int:
    if isinstance(v, (list, tuple)):
        return sum(map(len, v))
    return len(v)


def _splice_records(b: bytearray, splices: list | None, v: Any, size: int) -> None:
    parts = v if isinstance(v, (list, tuple)) else (v,)
    if splices is None or size < SPLICE_THRESHOLD:
        for part in parts:
            b += part
    else:
        at = len(b)
        for part in parts:
            splices.append((at, part))


def write_records(b: bytearray, splices: list | None, v: Any) -> None:
    """Records: bytes-like or a list of bytes-like parts (e.g. slices of segment files)."""
    if v is None:
        b += b"\xff\xff\xff\xff"
        return
    size = _records_size(v)
    b += INT32.pack(size)
    _splice_records(b, splices, v, size)


def write_compact_records(b: bytearray, splices: list | None, v: Any) -> None:
    if v is None:
        b += b"\x00"
        return
    size = _records_size(v)
    b += uvarint_bytes(size + 1)
    _splice_records(b, splices, v, size)


def write_uuid(b: bytearray, v: uuid.UUID) -> None:
    b += v.bytes


def assemble(b: bytearray, splices: list) -> list[Buffer]:
    """Interleave the encoded bytes with spliced payloads, in order, without copying them."""
    if not splices:
        return [b]
    view = memoryview(b)
    parts: list[Buffer] = []
    last = 0
    for at, payload in splices:
        if at > last:
            parts.append(view[last:at])
            last = at
        parts.append(payload)
    if last < len(b):
        parts.append(view[last:])
    return parts
