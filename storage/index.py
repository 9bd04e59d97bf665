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


class _SegmentIndex:
    """What both index files share: entries as two parallel arrays (one holding offsets relative
    to the segment base), loaded on demand, written to the file lazily, truncated and trimmed."""

    __slots__ = (
        "ref", "base_offset", "max_entries", "entries", "_a", "_b", "_cache", "pinned", "written",
        "__weakref__",
    )
    ENTRY: struct.Struct  # one entry in the file
    TYPECODES: tuple[str, str]  # of the two arrays
    REL: int  # which array holds relative offsets

    def __init__(
        self, ref: FileRef, base_offset: int, max_bytes: int, cache: FileCache,
        *, entries: int, loaded: bool,
    ) -> None:
        self.ref = ref
        self.base_offset = base_offset
        self.max_entries = max(1, max_bytes // self.ENTRY.size)
        self.entries = entries
        # Entries of the active segment reach the file lazily (on roll, flush and close):
        # after a crash the active segment is always re-scanned, so the file need not keep up.
        self.written = entries
        self._cache = cache
        # The active segment's index is pinned in memory; inactive ones are loaded on demand.
        self.pinned = loaded
        if loaded:
            self._a: array | None = array(self.TYPECODES[0])
            self._b: array | None = array(self.TYPECODES[1])
        else:
            self._a = self._b = None

    def _decode(self, data: bytes) -> tuple[array, array]:
        raise NotImplementedError

    def _arrays(self) -> tuple[array, array]:
        a, b = self._a, self._b
        if a is None or b is None:
            size = self.ENTRY.size
            data = self._cache.pread(self.ref, self.entries * size, 0)
            if len(data) != self.entries * size:
                raise CorruptIndexError(f"{self.ref.path} is shorter than its entry count")
            a, b = self._a, self._b = self._decode(data)
            if not self.pinned:
                self._cache.touch_index(self)
        elif not self.pinned:
            self._cache.touch_index(self)
        return a, b

    def _read_last(self) -> tuple[int, int]:
        """The last entry's two fields, read from the file without loading the index."""
        size = self.ENTRY.size
        data = self._cache.pread(self.ref, size, (self.entries - 1) * size)
        if len(data) != size:
            raise CorruptIndexError(f"{self.ref.path} is shorter than its entry count")
        return self.ENTRY.unpack(data)

    def _forget(self) -> None:
        """Drop what is cached beyond the arrays (subclasses keep a little)."""

    def unload(self) -> None:
        if not self.pinned:
            self._a = self._b = None

    def pin(self) -> None:
        """Keep the index in memory (it becomes the active segment's, e.g. after truncation)."""
        self._arrays()
        self.pinned = True
        self._cache.forget_index(self)

    def unpin(self) -> None:
        self.pinned = False

    @property
    def is_full(self) -> bool:
        return self.entries >= self.max_entries

    def write_pending(self) -> None:
        """Write entries appended since the last call to the file."""
        if self.written >= self.entries:
            return
        a, b = self._arrays()
        first = self.written
        pack = self.ENTRY.pack
        data = b"".join(pack(a[i], b[i]) for i in range(first, self.entries))
        self._cache.pwrite(self.ref, data, first * self.ENTRY.size)
        self.written = self.entries

    def truncate_to(self, offset: int) -> None:
        """Drop entries at or above `offset`."""
        arrays = self._arrays()
        keep = bisect_right(arrays[self.REL], offset - self.base_offset - 1)
        for arr in arrays:
            del arr[keep:]
        self.entries = keep
        self.written = min(self.written, keep)
        self._forget()

    def trim(self) -> None:
        """Cut the file to its entries (Kafka trims preallocated indexes on roll and close)."""
        self.write_pending()
        self._cache.truncate(self.ref, self.entries * self.ENTRY.size)

    def preallocate(self) -> None:
        self._cache.truncate(self.ref, max(self.entries, self.max_entries) * self.ENTRY.size)


class OffsetIndex(_SegmentIndex):
    """Maps offsets to file positions for every `index.interval.bytes` of a segment."""

    __slots__ = ()
    ENTRY = _OFFSET_ENTRY
    TYPECODES = ("i", "i")
    REL = 0

    def _decode(self, data: bytes) -> tuple[array, array]:
        both = _be_array("i", data)
        return both[0::2], both[1::2]

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
        rel, pos = self._a, self._b
        if rel is not None and pos is not None:
            return self.base_offset + rel[-1], pos[-1]
        r, p = self._read_last()
        return self.base_offset + r, p

    def entry_list(self) -> list[tuple[int, int]]:
        rel, pos = self._arrays()
        return [(self.base_offset + r, p) for r, p in zip(rel, pos)]

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
        self._a, self._b = rel, pos
        self.entries = self.written = len(entries)


class TimeIndex(_SegmentIndex):
    """Maps increasing max timestamps to the offset where they were first reached."""

    __slots__ = ("_last",)
    ENTRY = _TIME_ENTRY
    TYPECODES = ("q", "i")
    REL = 1

    def __init__(
        self, ref: FileRef, base_offset: int, max_bytes: int, cache: FileCache,
        *, entries: int, loaded: bool,
    ) -> None:
        super().__init__(ref, base_offset, max_bytes, cache, entries=entries, loaded=loaded)
        self._last: tuple[int, int] | None = None  # the last entry, read cheaply when unloaded

    def _decode(self, data: bytes) -> tuple[array, array]:
        ts_list = []
        rel_list = []
        for t, r in _TIME_ENTRY.iter_unpack(data):
            ts_list.append(t)
            rel_list.append(r)
        return array("q", ts_list), array("i", rel_list)

    def _forget(self) -> None:
        self._last = None

    @property
    def last_timestamp(self) -> int:
        ts = self._a
        if ts is not None:
            return ts[-1] if ts else NO_TIMESTAMP
        return self.last_entry()[0]

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
        ts, rel = self._a, self._b
        if ts is not None and rel is not None:
            return ts[-1], self.base_offset + rel[-1]
        if self._last is None:
            t, r = self._read_last()
            self._last = (t, self.base_offset + r)
        return self._last

    def entry_list(self) -> list[tuple[int, int]]:
        ts, rel = self._arrays()
        return [(t, self.base_offset + r) for t, r in zip(ts, rel)]

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

    def reset(self, entries: list[tuple[int, int]]) -> None:
        """Replace every entry (index rebuild) and rewrite the file."""
        data = b"".join(_TIME_ENTRY.pack(t, o - self.base_offset) for t, o in entries)
        self._cache.truncate(self.ref, 0)
        if data:
            self._cache.pwrite(self.ref, data, 0)
        self._a = array("q", [t for t, _ in entries])
        self._b = array("i", [o - self.base_offset for _, o in entries])
        self.entries = self.written = len(entries)
        self._last = None
