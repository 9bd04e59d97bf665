"""Test helpers: build valid v2 record batches without depending on a batch builder."""

from __future__ import annotations

import struct

from protocol.records import compute_crc

_HEADER = struct.Struct(">qiibIhiqqqhii")


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _varint(n: int) -> bytes:
    return _uvarint((n << 1) ^ (n >> 63))


def encode_record(offset_delta: int, ts_delta: int, key: bytes | None, value: bytes | None,
                  headers: list[tuple[str, bytes]] = ()) -> bytes:
    body = bytearray(b"\x00")
    body += _varint(ts_delta) + _varint(offset_delta)
    for part in (key, value):
        if part is None:
            body += _varint(-1)
        else:
            body += _varint(len(part)) + part
    body += _varint(len(headers))
    for hk, hv in headers:
        kb = hk.encode()
        body += _varint(len(kb)) + kb + _varint(len(hv)) + hv
    return _varint(len(body)) + bytes(body)


def make_batch(
    records: list[tuple[bytes | None, bytes | None]] | int = 1, *, base_offset: int = 0,
    timestamp: int = 1_000, timestamps: list[int] | None = None, producer_id: int = -1,
    producer_epoch: int = -1, base_sequence: int = -1, attributes: int = 0,
    partition_leader_epoch: int = -1, value_size: int = 8, last_offset_delta: int | None = None,
    offset_deltas: list[int] | None = None,
) -> bytes:
    """A valid uncompressed v2 batch. `records` is a list of (key, value) or a count of
    records with `value_size`-byte values."""
    if isinstance(records, int):
        records = [(None, bytes([i % 251]) * value_size) for i in range(records)]
    n = len(records)
    if timestamps is None:
        timestamps = [timestamp] * n
    if offset_deltas is None:
        offset_deltas = list(range(n))
    base_ts = timestamps[0] if timestamps else timestamp
    body = b"".join(
        encode_record(offset_deltas[i], timestamps[i] - base_ts, k, v) for i, (k, v) in enumerate(records)
    )
    lod = last_offset_delta if last_offset_delta is not None else (offset_deltas[-1] if n else 0)
    max_ts = max(timestamps) if timestamps else timestamp
    length = 61 - 12 + len(body)
    buf = bytearray(_HEADER.pack(
        base_offset, length, partition_leader_epoch, 2, 0, attributes, lod, base_ts, max_ts,
        producer_id, producer_epoch, base_sequence, n,
    )) + body
    struct.pack_into(">I", buf, 17, compute_crc(buf, 0, len(buf)))
    return bytes(buf)


def control_batch(*, producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int = 0,
                  timestamp: int = 1_000, base_offset: int = 0) -> bytes:
    key = struct.pack(">hh", 0, 1 if commit else 0)
    value = struct.pack(">hi", 0, coordinator_epoch)
    return make_batch([(key, value)], base_offset=base_offset, timestamp=timestamp,
                      producer_id=producer_id, producer_epoch=producer_epoch,
                      attributes=0x30)  # transactional + control


def batch_offsets(data: bytes) -> list[tuple[int, int]]:
    """(base offset, last offset) of each whole batch in `data`."""
    out = []
    pos = 0
    while len(data) - pos >= 61:
        base, length = struct.unpack_from(">qi", data, pos)
        delta = struct.unpack_from(">i", data, pos + 23)[0]
        if pos + length + 12 > len(data):
            break
        out.append((base, base + delta))
        pos += length + 12
    return out
