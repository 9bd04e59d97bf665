"""Sparse offset (`.index`) and time (`.timeindex`) indexes of one segment, in Kafka's format.

`.index` entries are 8 bytes: offset relative to the segment base (int32), file position
(int32). `.timeindex` entries are 12 bytes: timestamp (int64), relative offset (int32). All
big-endian. In memory each index is a pair of `array`s so lookups bisect in C.
"""

from __future__ import annotations

import struct
import sys
from array import array
from bisect import bisect_right

from storage.errors import CorruptIndexError
from storage.files import FileCache, FileRef

OFFSET_ENTRY_SIZE = 8
TIME_ENTRY_SIZE = 12
NO_TIMESTAMP = -1

_OFFSET_ENTRY = struct.Struct(">ii")
_TIME_ENTRY = struct.Struct(">qi")
_SWAP = sys.byteorder == "little"


def _be_array(typecode: str, data: bytes) -> array:
    a = array(typecode)
    a.frombytes(data)
    if _SWAP:
        a.byteswap()
    return a


class OffsetIndex:
    """Maps offsets to file positions for every `index.interval.bytes` of a segment."""

    __slots__ = (
        "ref", "base_offset", "max_entries", "entries", "_rel", "_pos", "_cache", "pinned",
        "written", "__weakref__",
    )

    def __init__(
        self, ref: FileRef, base_offset: int, max_bytes: int, cache: FileCache,
        *, entries: int, loaded: bool,
    ) -> None:
        self.ref = ref
        self.base_offset = base_offset
        self.max_entries = max(1, max_bytes // OFFSET_ENTRY_SIZE)
        self.entries = entries
        # Entries of the active segment reach the file lazily (on roll, flush and close):
        # after a crash the active segment is always re-scanned, so the file need not keep up.
        self.written = entries
        self._cache = cache
        # The active segment's index is pinned in memory; inactive ones are loaded on demand.
        self.pinned = loaded
        if loaded:
            self._rel: array | None = array("i")
            self._pos: array | None = array("i")
        else:
            self._rel = self._pos = None

    # -- loading ------------------------------------------------------------------------------

    def _arrays(self) -> tuple[array, array]:
        rel, pos = self._rel, self._pos
        if rel is None or pos is None:
            data = self._cache.pread(self.ref, self.entries * OFFSET_ENTRY_SIZE, 0)
            if len(data) != self.entries * OFFSET_ENTRY_SIZE:
                raise CorruptIndexError(f"{self.ref.path} is shorter than its entry count")
            both = _be_array("i", data)
            rel, pos = both[0::2], both[1::2]
            self._rel, self._pos = rel, pos
            if not self.pinned:
                self._cache.touch_index(self)
        elif not self.pinned:
            self._cache.touch_index(self)
        return rel, pos

    def unload(self) -> None:
        if not self.pinned:
            self._rel = self._pos = None

    def pin(self) -> None:
        """Keep the index in memory (it becomes the active segment's, e.g. after truncation)."""
        self._arrays()
        self.pinned = True
        self._cache.forget_index(self)

    def unpin(self) -> None:
        self.pinned = False

    def sanity_check(self, log_size: int) -> None:
        """Raise CorruptIndexError if the entries contradict the segment (Kafka's checks)."""
        rel, pos = self._arrays()
        if not rel:
            return
        if rel[0] < 0 or pos[0] < 0:
            raise CorruptIndexError(f"{self.ref.path}: negative first entry")
        if pos[-1] >= log_size:
            raise CorruptIndexError(f"{self.ref.path}: entry position beyond the log")
        for i in range(1, len(rel)):
            if rel[i] <= rel[i - 1] or pos[i] <= pos[i - 1]:
                raise CorruptIndexError(f"{self.ref.path}: entries out of order at {i}")

    # -- queries ------------------------------------------------------------------------------

    def lookup(self, offset: int) -> tuple[int, int]:
        """(offset, position) of the last entry at or below `offset`, else (base, 0)."""
        rel, pos = self._arrays()
        i = bisect_right(rel, offset - self.base_offset) - 1
        if i < 0:
            return self.base_offset, 0
        return self.base_offset + rel[i], pos[i]

    def lookup_position(self, position: int) -> tuple[int, int]:
        """(offset, position) of the last entry whose position is at or below `position`."""
        rel, pos = self._arrays()
        i = bisect_right(pos, position) - 1
        if i < 0:
            return self.base_offset, 0
        return self.base_offset + rel[i], pos[i]

    def last_entry(self) -> tuple[int, int]:
        if self.entries == 0:
            return self.base_offset, 0
        rel, pos = self._rel, self._pos
        if rel is not None and pos is not None:
            return self.base_offset + rel[-1], pos[-1]
        data = self._cache.pread(self.ref, OFFSET_ENTRY_SIZE, (self.entries - 1) * OFFSET_ENTRY_SIZE)
        if len(data) != OFFSET_ENTRY_SIZE:
            raise CorruptIndexError(f"{self.ref.path} is shorter than its entry count")
        r, p = _OFFSET_ENTRY.unpack(data)
        return self.base_offset + r, p

    def entry_list(self) -> list[tuple[int, int]]:
        rel, pos = self._arrays()
        return [(self.base_offset + r, p) for r, p in zip(rel, pos)]

    @property
    def is_full(self) -> bool:
        return self.entries >= self.max_entries

    # -- updates ------------------------------------------------------------------------------

    def append(self, offset: int, position: int) -> None:
        rel, pos = self._arrays()
        r = offset - self.base_offset
        if rel and r <= rel[-1]:
            raise CorruptIndexError(
                f"index entry for offset {offset} is not above the last entry {self.base_offset + rel[-1]}"
            )
        rel.append(r)
        pos.append(position)
        self.entries += 1

    def write_pending(self) -> None:
        """Write entries appended since the last call to the file."""
        if self.written >= self.entries:
            return
        rel, pos = self._arrays()
        first = self.written
        data = b"".join(_OFFSET_ENTRY.pack(rel[i], pos[i]) for i in range(first, self.entries))
        self._cache.pwrite(self.ref, data, first * OFFSET_ENTRY_SIZE)
        self.written = self.entries

    def truncate_to(self, offset: int) -> None:
        """Drop entries at or above `offset`."""
        rel, pos = self._arrays()
        keep = bisect_right(rel, offset - self.base_offset - 1)
        del rel[keep:]
        del pos[keep:]
        self.entries = keep
        self.written = min(self.written, keep)

    def reset(self, entries: list[tuple[int, int]]) -> None:
        """Replace every entry (index rebuild) and rewrite the file."""
        rel = array("i", [o - self.base_offset for o, _ in entries])
        pos = array("i", [p for _, p in entries])
        both = array("i", [0]) * (2 * len(entries))
        both[0::2] = rel
        both[1::2] = pos
        if _SWAP:
            both.byteswap()
        self._cache.truncate(self.ref, 0)
        if entries:
            self._cache.pwrite(self.ref, both.tobytes(), 0)
        self._rel, self._pos = rel, pos
        self.entries = self.written = len(entries)

    def trim(self) -> None:
        """Cut the file to its entries (Kafka trims preallocated indexes on roll and close)."""
        self.write_pending()
        self._cache.truncate(self.ref, self.entries * OFFSET_ENTRY_SIZE)

    def preallocate(self) -> None:
        self._cache.truncate(self.ref, max(self.entries, self.max_entries) * OFFSET_ENTRY_SIZE)


class TimeIndex:
    """Maps increasing max timestamps to the offset where they were first reached."""

    __slots__ = (
        "ref", "base_offset", "max_entries", "entries", "_ts", "_rel", "_cache", "pinned",
        "_last", "written", "__weakref__",
    )

    def __init__(
        self, ref: FileRef, base_offset: int, max_bytes: int, cache: FileCache,
        *, entries: int, loaded: bool,
    ) -> None:
        self.ref = ref
        self.base_offset = base_offset
        self.max_entries = max(1, max_bytes // TIME_ENTRY_SIZE)
        self.entries = entries
        self.written = entries  # as for OffsetIndex: the active segment's file lags
        self._cache = cache
        self.pinned = loaded
        self._last: tuple[int, int] | None = None
        if loaded:
            self._ts: array | None = array("q")
            self._rel: array | None = array("i")
        else:
            self._ts = self._rel = None

    def _arrays(self) -> tuple[array, array]:
        ts, rel = self._ts, self._rel
        if ts is None or rel is None:
            data = self._cache.pread(self.ref, self.entries * TIME_ENTRY_SIZE, 0)
            if len(data) != self.entries * TIME_ENTRY_SIZE:
                raise CorruptIndexError(f"{self.ref.path} is shorter than its entry count")
            ts_list = []
            rel_list = []
            for t, r in _TIME_ENTRY.iter_unpack(data):
                ts_list.append(t)
                rel_list.append(r)
            ts, rel = array("q", ts_list), array("i", rel_list)
            self._ts, self._rel = ts, rel
            if not self.pinned:
                self._cache.touch_index(self)
        elif not self.pinned:
            self._cache.touch_index(self)
        return ts, rel

    def unload(self) -> None:
        if not self.pinned:
            self._ts = self._rel = None

    @property
    def last_timestamp(self) -> int:
        ts = self._ts
        if ts is not None:
            return ts[-1] if ts else NO_TIMESTAMP
        return self.last_entry()[0]

    def pin(self) -> None:
        self._arrays()
        self.pinned = True
        self._cache.forget_index(self)

    def unpin(self) -> None:
        self.pinned = False

    def sanity_check(self) -> None:
        ts, rel = self._arrays()
        for i in range(1, len(ts)):
            if ts[i] <= ts[i - 1] or rel[i] < rel[i - 1]:
                raise CorruptIndexError(f"{self.ref.path}: entries out of order at {i}")

    def lookup(self, timestamp: int) -> tuple[int, int]:
        """(timestamp, offset) of the last entry with timestamp <= `timestamp`, else (-1, base)."""
        ts, rel = self._arrays()
        i = bisect_right(ts, timestamp) - 1
        if i < 0:
            return NO_TIMESTAMP, self.base_offset
        return ts[i], self.base_offset + rel[i]

    def last_entry(self) -> tuple[int, int]:
        """(timestamp, offset) of the last entry, or (-1, base) when empty; cheap when unloaded."""
        if self.entries == 0:
            return NO_TIMESTAMP, self.base_offset
        ts, rel = self._ts, self._rel
        if ts is not None and rel is not None:
            return ts[-1], self.base_offset + rel[-1]
        if self._last is None:
            data = self._cache.pread(self.ref, TIME_ENTRY_SIZE, (self.entries - 1) * TIME_ENTRY_SIZE)
            if len(data) != TIME_ENTRY_SIZE:
                raise CorruptIndexError(f"{self.ref.path} is shorter than its entry count")
            t, r = _TIME_ENTRY.unpack(data)
            self._last = (t, self.base_offset + r)
        return self._last

    def entry_list(self) -> list[tuple[int, int]]:
        ts, rel = self._arrays()
        return [(t, self.base_offset + r) for t, r in zip(ts, rel)]

    @property
    def is_full(self) -> bool:
        return self.entries >= self.max_entries

    def maybe_append(self, timestamp: int, offset: int, *, skip_full_check: bool = False) -> None:
        """Append when `timestamp` exceeds the last entry's, as Kafka does."""
        ts, rel = self._arrays()
        if ts and timestamp <= ts[-1]:
            return
        if not skip_full_check and self.entries >= self.max_entries:
            return
        r = offset - self.base_offset
        if rel and r < rel[-1]:
            raise CorruptIndexError(f"time index offset {offset} goes backwards")
        ts.append(timestamp)
        rel.append(r)
        self.entries += 1
        self._last = None

    def write_pending(self) -> None:
        if self.written >= self.entries:
            return
        ts, rel = self._arrays()
        first = self.written
        data = b"".join(_TIME_ENTRY.pack(ts[i], rel[i]) for i in range(first, self.entries))
        self._cache.pwrite(self.ref, data, first * TIME_ENTRY_SIZE)
        self.written = self.entries

    def truncate_to(self, offset: int) -> None:
        ts, rel = self._arrays()
        keep = bisect_right(rel, offset - self.base_offset - 1)
        del ts[keep:]
        del rel[keep:]
        self.entries = keep
        self.written = min(self.written, keep)
        self._last = None

    def reset(self, entries: list[tuple[int, int]]) -> None:
        data = b"".join(_TIME_ENTRY.pack(t, o - self.base_offset) for t, o in entries)
        self._cache.truncate(self.ref, 0)
        if data:
            self._cache.pwrite(self.ref, data, 0)
        self._ts = array("q", [t for t, _ in entries])
        self._rel = array("i", [o - self.base_offset for _, o in entries])
        self.entries = self.written = len(entries)
        self._last = None

    def trim(self) -> None:
        self.write_pending()
        self._cache.truncate(self.ref, self.entries * TIME_ENTRY_SIZE)

    def preallocate(self) -> None:
        self._cache.truncate(self.ref, max(self.entries, self.max_entries) * TIME_ENTRY_SIZE)
