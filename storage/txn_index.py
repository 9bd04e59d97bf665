"""The aborted-transaction index of a segment (`<base>.txnindex`), in Kafka's file format.

Each entry is 34 bytes, big-endian: version int16 (0), producerId int64, firstOffset int64,
lastOffset int64 (the ABORT marker's offset), lastStableOffset int64 (the LSO just after the
marker was written). An entry lives in the segment that holds its marker, and entries are in
marker order. A read_committed fetch collects the entries overlapping what it returns, so the
consumer can drop the aborted records; the lastStableOffset lets the search stop early.

The file is read on first use and appended to as aborts happen; it is not preallocated, so a
segment without aborted transactions has no file at all.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

ENTRY = struct.Struct(">hqqqq")
ENTRY_SIZE = ENTRY.size  # 34
VERSION = 0


class CorruptTxnIndexError(Exception):
    """A transaction index whose size or entries do not make sense; it is rebuilt."""


@dataclass(frozen=True, slots=True)
class AbortedTxn:
    """One aborted transaction: the producer, its first offset and its marker's offset."""

    producer_id: int
    first_offset: int
    last_offset: int
    last_stable_offset: int

    def pack(self) -> bytes:
        return ENTRY.pack(VERSION, self.producer_id, self.first_offset, self.last_offset,
                          self.last_stable_offset)


def parse_entries(data: bytes) -> list[AbortedTxn]:
    """The entries of a whole index file's bytes; CorruptTxnIndexError if they do not parse."""
    if len(data) % ENTRY_SIZE:
        raise CorruptTxnIndexError(f"size {len(data)} is not a multiple of {ENTRY_SIZE}")
    out = []
    for version, pid, first, last, lso in ENTRY.iter_unpack(data):
        if version != VERSION:
            raise CorruptTxnIndexError(f"unknown entry version {version}")
        out.append(AbortedTxn(pid, first, last, lso))
    return out


class TransactionIndex:
    """The aborted transactions whose markers are in one segment."""

    __slots__ = ("path", "base_offset", "_entries")

    def __init__(self, path: str, base_offset: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self._entries: list[AbortedTxn] | None = None

    # -- reading ----------------------------------------------------------------------------

    @property
    def entries(self) -> list[AbortedTxn]:
        if self._entries is None:
            try:
                with open(self.path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                data = b""
            try:
                self._entries = parse_entries(data)
            except CorruptTxnIndexError:
                # Keep the whole entries that parse; a torn last entry comes from a crash.
                whole = len(data) - len(data) % ENTRY_SIZE
                try:
                    self._entries = parse_entries(data[:whole])
                except CorruptTxnIndexError:
                    self._entries = []
        return self._entries

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def collect(self, fetch_offset: int, upper_bound: int) -> tuple[list[AbortedTxn], bool]:
        """Entries overlapping [fetch_offset, upper_bound), and whether the search is complete
        (an entry's last stable offset reached the upper bound: later segments cannot add any)."""
        found = []
        for e in self.entries:
            if e.last_offset >= fetch_offset and e.first_offset < upper_bound:
                found.append(e)
            if e.last_stable_offset >= upper_bound:
                return found, True
        return found, False

    # -- writing ----------------------------------------------------------------------------

    def append(self, entry: AbortedTxn) -> None:
        entries = self.entries
        if entries and entries[-1].last_offset >= entry.last_offset:
            raise ValueError(
                f"aborted transaction at {entry.last_offset} is not after the last one at "
                f"{entries[-1].last_offset} in {self.path}"
            )
        with open(self.path, "ab") as f:
            f.write(entry.pack())
        entries.append(entry)

    def reset(self, entries: list[AbortedTxn] | None = None) -> None:
        """Replace the whole index (recovery rebuilds it); no entries removes the file."""
        entries = list(entries or ())
        if entries:
            tmp = self.path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(b"".join(e.pack() for e in entries))
            os.replace(tmp, self.path)
        else:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
        self._entries = entries

    def truncate_to(self, offset: int) -> None:
        """Drop the entries whose marker is at or after `offset`."""
        entries = self.entries
        keep = [e for e in entries if e.last_offset < offset]
        if len(keep) != len(entries):
            if keep:
                with open(self.path, "r+b") as f:
                    f.truncate(len(keep) * ENTRY_SIZE)
                self._entries = keep
            else:
                self.reset()

    def fsync(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def forget(self) -> None:
        """Drop the cached entries (the file was renamed or replaced)."""
        self._entries = None

    def __repr__(self) -> str:
        return f"TransactionIndex({self.path})"
