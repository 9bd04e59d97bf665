"""Crash recovery of a partition directory: leftover cleaner and deletion files, interrupted
segment swaps, and segment scans that keep the longest valid prefix and rebuild indexes."""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass
from typing import Callable

from protocol.errors import CorruptRecordError
from protocol.records import HEADER_SIZE, LOG_OVERHEAD, BatchHeader, validate_batch
from storage.files import FileCache
from storage.index import NO_TIMESTAMP
from storage.segment import (
    CLEANED_SUFFIX, DELETED_SUFFIX, INDEX_SUFFIX, INT32_MAX, LOG_SUFFIX, SEGMENT_SUFFIXES,
    SWAP_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX, Segment, file_prefix, offset_from_name,
)

log = logging.getLogger(__name__)

_READ_CHUNK = 8 * 1024 * 1024
_LEN = struct.Struct(">qi")

BatchCallback = Callable[[BatchHeader, bytes, int], None]


@dataclass(slots=True)
class SegmentRecovery:
    """What a scan of one segment found."""

    valid_bytes: int
    truncated_bytes: int
    batches: int
    reason: str = ""


def remove_leftovers(directory: str) -> list[str]:
    """Delete `.cleaned`, `.deleted` and temp files and orphan indexes; return the names of
    `.log.swap` files, which are completed cleanings whose swap must be finished."""
    swaps = []
    names = os.listdir(directory)
    logs = {n[: -len(LOG_SUFFIX)] for n in names if n.endswith(LOG_SUFFIX)}
    for name in names:
        path = os.path.join(directory, name)
        if name.endswith((DELETED_SUFFIX, CLEANED_SUFFIX, ".tmp")):
            _unlink(path)
        elif name.endswith(SWAP_SUFFIX):
            if name.endswith(LOG_SUFFIX + SWAP_SUFFIX):
                swaps.append(name)
            else:
                _unlink(path)  # swapped indexes are rebuilt from the swapped log
        elif name.endswith((INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX)):
            if name.rsplit(".", 1)[0] not in logs:
                _unlink(path)
    return sorted(swaps)


def complete_swap(directory: str, swap_name: str) -> int:
    """Finish an interrupted swap: drop the segments the cleaned one replaces, then rename it
    into place. Its indexes are rebuilt by the caller. Returns its base offset."""
    base = offset_from_name(swap_name)
    swap_path = os.path.join(directory, swap_name)
    next_offset = _scan_next_offset(swap_path, base)
    upper = max(next_offset, base + 1)
    for name in os.listdir(directory):
        if not name.endswith(LOG_SUFFIX):
            continue
        try:
            off = offset_from_name(name)
        except ValueError:
            continue
        if base <= off < upper:
            stem = os.path.join(directory, file_prefix(off))
            for suffix in SEGMENT_SUFFIXES:
                _unlink(stem + suffix)
    stem = os.path.join(directory, file_prefix(base))
    for suffix in (INDEX_SUFFIX, TIME_INDEX_SUFFIX):
        _unlink(stem + suffix)
    os.replace(swap_path, stem + LOG_SUFFIX)
    log.info("completed interrupted segment swap at %s", stem + LOG_SUFFIX)
    return base


def _scan_next_offset(path: str, base: int) -> int:
    """Offset after the last complete batch of a file, reading headers only."""
    nxt = base
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        pos = 0
        while size - pos >= HEADER_SIZE:
            f.seek(pos)
            head = f.read(27)
            off, length = _LEN.unpack_from(head, 0)
            batch_size = length + LOG_OVERHEAD
            if batch_size < HEADER_SIZE or pos + batch_size > size:
                break
            nxt = off + struct.unpack_from(">i", head, 23)[0] + 1
            pos += batch_size
    return nxt


def recover_segment(
    seg: Segment, cache: FileCache, *, min_offset: int, on_batch: BatchCallback | None = None,
    active: bool, preallocate: bool = True,
) -> SegmentRecovery:
    """Validate every batch of `seg`; cut the file at the first torn or invalid one; rebuild
    both indexes exactly as appends would have built them.

    A batch is valid when it passes `validate_batch` (magic, length, CRC32C, counts), starts
    at or above `min_offset` and the previous batch's next offset, and its last offset fits
    the segment's int32 relative range.
    """
    file_size = cache.size(seg.log_ref)
    interval = seg.index_interval
    entries: list[tuple[int, int]] = []
    time_entries: list[tuple[int, int]] = []
    max_ts, max_off = NO_TIMESTAMP, seg.base_offset
    last_ts_entry = NO_TIMESTAMP
    last_entry_pos = 0
    valid = 0
    batches = 0
    expected = max(min_offset, seg.base_offset)
    first_ts: int | None = None
    reason = ""
    buf = b""
    buf_pos = 0  # file position of buf[0]
    while valid < file_size:
        i = valid - buf_pos
        if len(buf) - i < LOG_OVERHEAD:
            buf = cache.pread(seg.log_ref, min(_READ_CHUNK, file_size - valid), valid)
            buf_pos, i = valid, 0
            if len(buf) < LOG_OVERHEAD:
                reason = "torn batch header"
                break
        size = _LEN.unpack_from(buf, i)[1] + LOG_OVERHEAD
        if size < HEADER_SIZE:
            reason = f"batch length {size - LOG_OVERHEAD} is too small"
            break
        if valid + size > file_size:
            reason = "torn batch"
            break
        if len(buf) - i < size:
            buf = cache.pread(seg.log_ref, max(size, min(_READ_CHUNK, file_size - valid)), valid)
            buf_pos, i = valid, 0
            if len(buf) < size:
                reason = "short read"
                break
        try:
            h = validate_batch(buf, i)
        except CorruptRecordError as e:
            reason = str(e)
            break
        last = h.base_offset + h.last_offset_delta
        if h.base_offset < expected:
            reason = f"batch offset {h.base_offset} below expected {expected}"
            break
        if last - seg.base_offset > INT32_MAX:
            reason = f"offset {last} overflows segment {seg.base_offset}"
            break
        if on_batch is not None:
            on_batch(h, buf, i)
        if first_ts is None:
            first_ts = h.max_timestamp
        if h.max_timestamp > max_ts:
            max_ts, max_off = h.max_timestamp, last
        if valid - last_entry_pos > interval:
            entries.append((last, valid))
            if max_ts > last_ts_entry:
                time_entries.append((max_ts, max_off))
                last_ts_entry = max_ts
            last_entry_pos = valid
        valid += size
        expected = last + 1
        batches += 1
    truncated = file_size - valid
    if truncated:
        log.warning(
            "truncating %s at byte %d of %d: %s", seg.log_ref.path, valid, file_size, reason or "invalid data",
        )
        cache.truncate(seg.log_ref, valid)
    # Entry bounds: never more entries than the index can hold (the appends would have rolled).
    entries = entries[: seg.index.max_entries]
    seg.index.reset(entries)
    seg.time_index.reset(time_entries[: seg.time_index.max_entries])
    seg.size = valid
    seg.next_offset = expected if batches else seg.base_offset
    seg.max_timestamp = max_ts
    seg.max_timestamp_offset = max_off
    seg.bytes_since_index = valid - last_entry_pos
    seg.first_batch_timestamp = first_ts
    if active:
        seg.index.pinned = True
        seg.time_index.pinned = True
        if preallocate:
            seg.index.preallocate()
            seg.time_index.preallocate()
    else:
        if max_ts > NO_TIMESTAMP:
            seg.time_index.maybe_append(max_ts, max_off, skip_full_check=True)
            seg.time_index.write_pending()
        seg.index.pinned = False
        seg.time_index.pinned = False
        seg.index.unload()
        seg.time_index.unload()
    return SegmentRecovery(valid, truncated, batches, reason)


def delete_segment_files(seg: Segment) -> None:
    """Remove a segment's files at once (recovery drops segments after a corrupt one)."""
    seg.close_files()
    for path in seg.paths():
        _unlink(path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
