"""One log segment: `<base>.log` holding raw batches plus its offset and time indexes.

Segments know how to append batches, find the file position of an offset by the sparse index
and a short header scan, cut reads at batch boundaries, truncate, and rename themselves away.
"""

from __future__ import annotations

import os
import struct
from typing import Iterator

from protocol.errors import CorruptRecordError
from protocol.records import (
    HEADER_SIZE, LOG_OVERHEAD, BatchHeader, decode_batch, read_header, record_timestamp,
)
from storage.files import FileCache, FileRef
from storage.index import NO_TIMESTAMP, OFFSET_ENTRY_SIZE, TIME_ENTRY_SIZE, OffsetIndex, TimeIndex
from storage.txn_index import TransactionIndex

LOG_SUFFIX = ".log"
INDEX_SUFFIX = ".index"
TIME_INDEX_SUFFIX = ".timeindex"
# Aborted-transaction index (storage.txn_index); only segments holding ABORT markers of
# non-empty transactions have one.
TXN_INDEX_SUFFIX = ".txnindex"
SNAPSHOT_SUFFIX = ".snapshot"
DELETED_SUFFIX = ".deleted"
CLEANED_SUFFIX = ".cleaned"
SWAP_SUFFIX = ".swap"

SEGMENT_SUFFIXES = (LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX)

# baseOffset, batchLength, partitionLeaderEpoch, magic, crc, attributes, lastOffsetDelta,
# baseTimestamp, maxTimestamp: the prefix of the v2 header that scans need.
_SCAN = struct.Struct(">qiibIhiqq")
_SCAN_SIZE = _SCAN.size  # 43
# Short scans (from an index entry to a target) cover about index.interval.bytes; large
# batches cost one read each since the scan jumps from header to header.
_SCAN_CHUNK = 8 * 1024
INT32_MAX = (1 << 31) - 1
# Disk blocks are allocated ahead of the write position (FileCache.reserve) by as much again
# as the segment holds or 16 appends like the current one, within these bounds: a busy log
# asks once per 16 MiB, a quiet one holds little it does not use. Rolls and closes give back
# what is left.
RESERVE_MIN = 64 * 1024
RESERVE_MAX = 16 * 1024 * 1024
_NO_RESERVE = 1 << 62


def file_prefix(offset: int) -> str:
    """Kafka's file name stem: the base offset zero-padded to 20 digits."""
    return f"{offset:020d}"


def offset_from_name(name: str) -> int:
    return int(name.split(".", 1)[0])


class Segment:
    """A segment's files and the in-memory facts needed to append to and read from it."""

    __slots__ = (
        "dir", "base_offset", "log_ref", "index", "time_index", "size", "next_offset",
        "max_timestamp", "max_timestamp_offset", "bytes_since_index", "first_batch_timestamp",
        "created_ms", "index_interval", "_cache", "txn_index", "reserved",
    )

    def __init__(
        self, directory: str, base_offset: int, cache: FileCache, *, index_interval: int,
        index_max_bytes: int, size: int, index_entries: int, time_entries: int, active: bool,
        created_ms: int,
    ) -> None:
        self.dir = directory
        self.base_offset = base_offset
        self._cache = cache
        stem = os.path.join(directory, file_prefix(base_offset))
        self.log_ref = FileRef(stem + LOG_SUFFIX)
        self.index = OffsetIndex(
            FileRef(stem + INDEX_SUFFIX), base_offset, index_max_bytes, cache,
            entries=index_entries, loaded=active,
        )
        self.time_index = TimeIndex(
            FileRef(stem + TIME_INDEX_SUFFIX), base_offset, index_max_bytes, cache,
            entries=time_entries, loaded=active,
        )
        self.size = size
        # Exact only for the active segment (and after a scan); None means "not known yet".
        self.next_offset: int | None = base_offset if size == 0 else None
        # Max batch timestamp and the last offset of its batch; None until known.
        self.max_timestamp: int | None = NO_TIMESTAMP if size == 0 else None
        self.max_timestamp_offset = base_offset
        self.bytes_since_index = 0
        self.first_batch_timestamp: int | None = None
        self.created_ms = created_ms
        self.index_interval = index_interval
        self.txn_index = TransactionIndex(stem + TXN_INDEX_SUFFIX, base_offset)
        # End of the disk blocks known to be allocated for the log file (FileCache.reserve).
        self.reserved = size

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def create(
        cls, directory: str, base_offset: int, cache: FileCache, *, index_interval: int,
        index_max_bytes: int, now_ms: int, preallocate_index: bool = True, preallocate_log: int = 0,
    ) -> Segment:
        """A new empty active segment; any files left at this base offset are emptied.
        `preallocate_log` bytes of disk are allocated for the log file at once (Kafka's
        `preallocate`), the file's size staying that of its data."""
        seg = cls(
            directory, base_offset, cache, index_interval=index_interval,
            index_max_bytes=index_max_bytes, size=0, index_entries=0, time_entries=0,
            active=True, created_ms=now_ms,
        )
        cache.truncate(seg.log_ref, 0)
        cache.truncate(seg.index.ref, 0)
        cache.truncate(seg.time_index.ref, 0)
        seg.txn_index.reset()
        if preallocate_index:
            seg.index.preallocate()
            seg.time_index.preallocate()
        if preallocate_log and cache.reserve(seg.log_ref, 0, preallocate_log):
            seg.reserved = preallocate_log
        return seg

    @classmethod
    def load(
        cls, directory: str, base_offset: int, cache: FileCache, *, index_interval: int,
        index_max_bytes: int, now_ms: int,
    ) -> Segment:
        """An existing segment, from file sizes only: nothing is read until needed."""
        stem = os.path.join(directory, file_prefix(base_offset))
        log_stat = os.stat(stem + LOG_SUFFIX)
        try:
            index_size = os.stat(stem + INDEX_SUFFIX).st_size
        except FileNotFoundError:
            index_size = -1
        try:
            time_size = os.stat(stem + TIME_INDEX_SUFFIX).st_size
        except FileNotFoundError:
            time_size = -1
        seg = cls(
            directory, base_offset, cache, index_interval=index_interval,
            index_max_bytes=index_max_bytes, size=log_stat.st_size,
            index_entries=max(0, index_size) // OFFSET_ENTRY_SIZE,
            time_entries=max(0, time_size) // TIME_ENTRY_SIZE, active=False,
            created_ms=int(log_stat.st_mtime * 1000) if log_stat.st_size else now_ms,
        )
        if index_size < 0 or time_size < 0 or index_size % OFFSET_ENTRY_SIZE or time_size % TIME_ENTRY_SIZE:
            seg.index.entries = -1  # marks "indexes unusable, rebuild before use"
        return seg

    @property
    def indexes_ok(self) -> bool:
        return self.index.entries >= 0

    @property
    def stem(self) -> str:
        return os.path.join(self.dir, file_prefix(self.base_offset))

    # -- appends ------------------------------------------------------------------------------

    def append(self, buffers: list, metas: list[tuple[int, int, int]], total: int) -> None:
        """Write `buffers` (together `total` bytes of whole batches) at the end; `metas` holds
        (size, last_offset, max_ts) per batch, in order. Index entries follow Kafka: one
        every index.interval.bytes."""
        pos = self.size
        if pos + total > self.reserved:
            self._reserve_ahead(pos + total, total)
        self._cache.pwritev(self.log_ref, buffers, pos, total)
        interval = self.index_interval
        max_ts = self.max_timestamp if self.max_timestamp is not None else self._load_max_timestamp()
        max_off = self.max_timestamp_offset
        since = self.bytes_since_index
        last_offset = self.base_offset
        if pos == 0 and metas:
            self.first_batch_timestamp = metas[0][2]
        for size, last_offset, ts in metas:
            if ts > max_ts:
                max_ts = ts
                max_off = last_offset
            if since > interval:
                self.index.append(last_offset, pos)
                time_index = self.time_index
                if max_ts > time_index.last_timestamp:
                    time_index.maybe_append(max_ts, max_off)
                since = 0
            since += size
            pos += size
        self.max_timestamp = max_ts
        self.max_timestamp_offset = max_off
        self.bytes_since_index = since
        self.size = pos
        self.next_offset = last_offset + 1

    def _reserve_ahead(self, end: int, appending: int) -> None:
        ahead = min(RESERVE_MAX, max(RESERVE_MIN, end, 16 * appending))
        if self._cache.reserve(self.log_ref, self.size, end + ahead - self.size):
            self.reserved = end + ahead
        else:
            self.reserved = _NO_RESERVE  # no room or no support: write without, for this segment

    def release_reserved(self) -> None:
        """Give back the blocks allocated past the end of the data."""
        if self.size < self.reserved:
            if self.reserved != _NO_RESERVE:
                self._cache.truncate(self.log_ref, self.size)
            self.reserved = self.size

    def fits_offset(self, offset: int) -> bool:
        """Whether `offset` can be stored relative to the base as an int32 (Kafka's limit)."""
        return 0 <= offset - self.base_offset <= INT32_MAX

    # -- facts loaded lazily ------------------------------------------------------------------

    def _load_max_timestamp(self) -> int:
        ts, off = self.time_index.last_entry()
        self.max_timestamp = ts
        self.max_timestamp_offset = off
        return ts

    def largest_timestamp(self) -> int:
        """Max batch timestamp, or the file's mtime when no batch has one (as Kafka does)."""
        ts = self.max_timestamp if self.max_timestamp is not None else self._load_max_timestamp()
        if ts > NO_TIMESTAMP:
            return ts
        try:
            return int(os.stat(self.log_ref.path).st_mtime * 1000)
        except FileNotFoundError:
            return 0

    def max_timestamp_and_offset(self) -> tuple[int, int]:
        ts = self.max_timestamp if self.max_timestamp is not None else self._load_max_timestamp()
        return ts, self.max_timestamp_offset

    def read_next_offset(self) -> int:
        """The offset after the last batch: last index entry, then a short scan to the end."""
        if self.next_offset is not None:
            return self.next_offset
        offset, pos = self.index.last_entry()
        nxt = self.base_offset
        since = 0
        entry_pos = pos
        for p, base, last_delta, size, _ts in self.scan_headers(pos):
            nxt = base + last_delta + 1
            since = p + size - entry_pos
        if nxt == self.base_offset and pos > 0:
            nxt = offset + 1
        self.next_offset = nxt
        self.bytes_since_index = since if self.index.entries else self.size
        return nxt

    # -- scans --------------------------------------------------------------------------------

    def scan_headers(
        self, start: int, end: int | None = None, chunk: int = _SCAN_CHUNK,
    ) -> Iterator[tuple[int, int, int, int, int]]:
        """Yield (position, base_offset, last_offset_delta, size, max_timestamp) of the complete
        batches from `start` to `end` (default: the segment size). Reads in chunks; stops at a
        truncated or nonsensical header, which only recovery should meet."""
        end = self.size if end is None else end
        cache = self._cache
        ref = self.log_ref
        unpack = _SCAN.unpack_from
        pos = start
        while pos < end:
            want = min(chunk, end - pos)
            buf = cache.pread(ref, want, pos)
            n = len(buf)
            i = 0
            while n - i >= _SCAN_SIZE:
                base, length, _ple, _magic, _crc, _attrs, delta, _bts, max_ts = unpack(buf, i)
                size = length + LOG_OVERHEAD
                if size < HEADER_SIZE or pos + i + size > end:
                    return
                yield pos + i, base, delta, size, max_ts
                i += size
            if i == 0:
                return
            pos += i

    def iter_headers(self, start: int, chunk: int = 1024 * 1024) -> Iterator[tuple[int, BatchHeader]]:
        """Yield (position, header) of each complete batch from `start` to the end."""
        cache = self._cache
        ref = self.log_ref
        end = self.size
        pos = start
        while end - pos >= HEADER_SIZE:
            buf = cache.pread(ref, min(chunk, end - pos), pos)
            n = len(buf)
            i = 0
            while n - i >= HEADER_SIZE:
                h = read_header(buf, i)
                size = h.batch_length + LOG_OVERHEAD
                if size < HEADER_SIZE or pos + i + size > end:
                    return
                yield pos + i, h
                i += size
            if i == 0:
                return
            pos += i

    def find_position(self, offset: int, end: int | None = None) -> int | None:
        """File position of the first batch whose last offset is >= `offset`; None if none."""
        _o, pos = self.index.lookup(offset)
        for p, base, delta, _size, _ts in self.scan_headers(pos, end):
            if base + delta >= offset:
                return p
        return None

    def boundary_at_or_before(self, start: int, limit: int) -> tuple[int, int]:
        """Given a batch start `start`, return (cut, first_size): `cut` is the end of the last
        whole batch ending at or before `limit`, `first_size` the size of the batch at `start`."""
        _o, p = self.index.lookup_position(limit)
        first_size = self._batch_size_at(start)
        cut = start + first_size
        if cut > limit:
            return start, first_size
        scan_from = max(p, cut)
        if scan_from > cut:
            # The index entry is a batch start we know; every batch before it ends before it.
            cut = scan_from
        for p2, _b, _d, size, _ts in self.scan_headers(scan_from, limit):
            cut = p2 + size
        return cut, first_size

    def _batch_size_at(self, pos: int) -> int:
        head = self._cache.pread(self.log_ref, 12, pos)
        return struct.unpack_from(">i", head, 8)[0] + LOG_OVERHEAD

    def find_offset_by_timestamp(self, timestamp: int, start_offset: int) -> tuple[int, int] | None:
        """(timestamp, offset) of the first record at or after `start_offset` whose timestamp
        is >= `timestamp`: the time index narrows the scan, then one batch is decoded."""
        _t, off = self.time_index.lookup(timestamp)
        _o, pos = self.index.lookup(max(off, start_offset))
        for p, base, delta, size, max_ts in self.scan_headers(pos):
            if max_ts < timestamp or base + delta < start_offset:
                continue
            found = self._first_record_at(p, size, lambda t, o: t >= timestamp and o >= start_offset)
            if found is not None:
                return found
        return None

    def _first_record_at(self, pos: int, size: int, accept) -> tuple[int, int] | None:
        """(timestamp, offset) of the first record of the batch at `pos` that `accept`s; a
        batch that cannot be decoded answers at batch level (max timestamp, base offset)."""
        data = self._cache.pread(self.log_ref, size, pos)
        try:
            header, records = decode_batch(data, 0, verify_crc=False)
        except CorruptRecordError:
            h = read_header(data, 0)
            return (h.max_timestamp, h.base_offset) if accept(h.max_timestamp, h.last_offset) else None
        for r in records:
            ts, off = record_timestamp(header, r), header.base_offset + r.offset_delta
            if accept(ts, off):
                return ts, off
        return None

    def record_with_timestamp(self, timestamp: int, batch_last_offset: int) -> tuple[int, int]:
        """(timestamp, offset) of the first record carrying `timestamp` in the batch that ends
        at `batch_last_offset` (ListOffsets MAX_TIMESTAMP answers at record level)."""
        pos = self.find_position(batch_last_offset)
        if pos is not None:
            found = self._first_record_at(pos, self._batch_size_at(pos), lambda t, _o: t == timestamp)
            if found is not None:
                return found
        return timestamp, batch_last_offset

    def read(self, start: int, end: int) -> bytes:
        return self._cache.pread(self.log_ref, end - start, start)

    # -- truncation ---------------------------------------------------------------------------

    def truncate_to(self, offset: int) -> int:
        """Remove every batch whose last offset is >= `offset`; return the bytes removed."""
        pos = self.find_position(offset)
        if pos is None:
            return 0
        removed = self.size - pos
        self.index.truncate_to(offset)
        self.time_index.truncate_to(offset)
        self.txn_index.truncate_to(offset)
        self._cache.truncate(self.log_ref, pos)  # also frees any blocks reserved past it
        self.size = pos
        self.reserved = pos
        self._recompute_tail()
        return removed

    def _recompute_tail(self) -> None:
        """After a truncation: exact next offset, max timestamp and bytes since the last entry."""
        ts, ts_off = self.time_index.last_entry()
        entry_offset, entry_pos = self.index.last_entry()
        nxt = self.base_offset
        since = 0
        for p, base, delta, size, max_ts in self.scan_headers(entry_pos):
            nxt = base + delta + 1
            since = p + size - entry_pos
            if max_ts > ts:
                ts, ts_off = max_ts, base + delta
        if nxt == self.base_offset and entry_pos > 0:
            nxt = entry_offset + 1
        self.next_offset = nxt
        self.max_timestamp = ts
        self.max_timestamp_offset = ts_off
        self.bytes_since_index = since if self.index.entries else self.size
        if self.size == 0:
            self.first_batch_timestamp = None

    # -- lifecycle ----------------------------------------------------------------------------

    def make_active(self, now_ms: int, preallocate_index: bool = True) -> None:
        """Become the segment appends go to (after a reopen or a truncation)."""
        self.read_next_offset()
        self.index.pin()
        self.time_index.pin()
        if self.max_timestamp is None:
            self._load_max_timestamp()
        if preallocate_index:
            self.index.preallocate()
            self.time_index.preallocate()

    def on_become_inactive(self) -> None:
        """On roll and close: record the final max timestamp, trim the preallocated indexes (as
        Kafka) and give back the log file's blocks reserved past its end."""
        self.release_reserved()
        if self.max_timestamp is not None and self.max_timestamp > NO_TIMESTAMP:
            self.time_index.maybe_append(self.max_timestamp, self.max_timestamp_offset, skip_full_check=True)
        self.index.trim()
        self.time_index.trim()
        self.index.unpin()
        self.time_index.unpin()

    def paths(self) -> list[str]:
        stem = self.stem
        return [stem + s for s in SEGMENT_SUFFIXES if os.path.exists(stem + s)]

    def close_files(self) -> None:
        for ref in (self.log_ref, self.index.ref, self.time_index.ref):
            self._cache.close(ref)
        self._cache.forget_index(self.index)
        self._cache.forget_index(self.time_index)

    def rename_for_deletion(self) -> list[str]:
        """Close and rename every file of the segment to `*.deleted`; return the new paths."""
        self.close_files()
        renamed = []
        for path in self.paths():
            os.replace(path, path + DELETED_SUFFIX)
            renamed.append(path + DELETED_SUFFIX)
        self.txn_index.forget()
        return renamed

    def __repr__(self) -> str:
        return f"Segment(base={self.base_offset}, size={self.size})"
