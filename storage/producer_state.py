"""Per-partition idempotent/transactional producer state: epochs, the last five batches'
sequence ranges for duplicate detection, open transactions, and Kafka's `.snapshot` files.

Validation follows Kafka 3.x/4.x brokers (ProducerAppendInfo):

* a batch whose (epoch, first seq, last seq) equals one of the last five batches of that
  producer is a DUPLICATE; the broker answers it with the original offsets;
* an epoch below the current one is INVALID_PRODUCER_EPOCH;
* a new (higher) epoch must start at sequence 0, unless the partition has no state for the
  producer at all;
* within an epoch the first sequence must follow the last one (wrapping from Int.MAX to 0),
  else OUT_OF_ORDER_SEQUENCE_NUMBER; when the partition has no state for the producer (never
  seen, or its batches were all removed by retention or DeleteRecords) any sequence is
  accepted. Since Kafka 2.5 (KIP-360) brokers never answer UNKNOWN_PRODUCER_ID for produce;
  neither does this;
* a non-transactional batch while the producer has an open transaction is INVALID_TXN_STATE.
"""

from __future__ import annotations

import os
import struct
from collections import deque
from dataclasses import dataclass, field

from protocol.errors import ErrorCode
from protocol.records import crc32c
from storage.segment import SNAPSHOT_SUFFIX, file_prefix, offset_from_name

NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
BATCHES_TO_RETAIN = 5
INT32_MAX = (1 << 31) - 1
DEFAULT_PRODUCER_ID_EXPIRATION_MS = 24 * 3600 * 1000

SNAPSHOT_VERSION = 1
# version int16, crc uint32 (CRC32C over everything after it), then an int32-counted array of
# producer_id int64, epoch int16, last_sequence int32, last_offset int64, offset_delta int32,
# timestamp int64, coordinator_epoch int32, current_txn_first_offset int64.
_SNAP_HEADER = struct.Struct(">hIi")
_SNAP_ENTRY = struct.Struct(">qhiqiqiq")
_CRC_START = 6


class CorruptSnapshotError(Exception):
    """A producer snapshot that fails its CRC or does not parse; it is ignored and deleted."""


@dataclass(slots=True)
class BatchMetadata:
    """Sequence and offset range of one appended batch."""

    first_seq: int
    last_seq: int
    first_offset: int
    last_offset: int
    timestamp: int


@dataclass(slots=True)
class ProducerEntry:
    """What a partition remembers about one producer id."""

    producer_id: int
    epoch: int = NO_PRODUCER_EPOCH
    batches: deque[BatchMetadata] = field(default_factory=lambda: deque(maxlen=BATCHES_TO_RETAIN))
    coordinator_epoch: int = -1
    last_timestamp: int = -1
    current_txn_first_offset: int | None = None

    @property
    def last_seq(self) -> int:
        return self.batches[-1].last_seq if self.batches else NO_SEQUENCE

    @property
    def last_data_offset(self) -> int:
        return self.batches[-1].last_offset if self.batches else -1

    def find_duplicate(self, epoch: int, first_seq: int, last_seq: int) -> BatchMetadata | None:
        if epoch != self.epoch:
            return None
        for b in self.batches:
            if b.first_seq == first_seq and b.last_seq == last_seq:
                return b
        return None

    def copy(self) -> ProducerEntry:
        return ProducerEntry(
            self.producer_id, self.epoch, deque(self.batches, maxlen=BATCHES_TO_RETAIN),
            self.coordinator_epoch, self.last_timestamp, self.current_txn_first_offset,
        )


@dataclass(slots=True)
class ProducerCheck:
    """Result of `check_and_prepare`: ErrorCode.NONE (append; `duplicate` set for a retry,
    with the original offsets), or the error code the broker returns for the partition."""

    error: ErrorCode
    duplicate: BatchMetadata | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.error is ErrorCode.NONE and self.duplicate is None

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate is not None


_OK = ProducerCheck(ErrorCode.NONE)


def _in_sequence(last_seq: int, next_seq: int) -> bool:
    return next_seq == last_seq + 1 or (next_seq == 0 and last_seq == INT32_MAX)


def _decrement_sequence(seq: int, delta: int) -> int:
    return seq - delta if seq >= delta else INT32_MAX - (delta - seq) + 1


class ProducerStateManager:
    """Producer entries of one partition, their checks, updates and snapshots.

    Not thread-safe on its own: the Log calls it under its lock.
    """

    def __init__(self, directory: str, *, expiration_ms: int = DEFAULT_PRODUCER_ID_EXPIRATION_MS) -> None:
        self.dir = directory
        self.expiration_ms = expiration_ms
        self.producers: dict[int, ProducerEntry] = {}
        # The offset up to which the state reflects the log (exclusive).
        self.map_end_offset = 0
        self.last_snapshot_offset = -1

    # -- produce-time validation --------------------------------------------------------------

    def check_and_prepare(
        self, producer_id: int, epoch: int, first_seq: int, last_seq: int, is_transactional: bool,
        *, pending: dict[int, ProducerEntry] | None = None,
    ) -> ProducerCheck:
        """Decide a client batch as Kafka's leader does, without changing any state.

        `pending` holds entries already advanced by earlier batches of the same append, so a
        multi-batch payload is checked as a sequence.
        """
        entry = (pending or {}).get(producer_id) or self.producers.get(producer_id)
        if entry is None:
            return _OK
        dup = entry.find_duplicate(epoch, first_seq, last_seq)
        if dup is not None:
            return ProducerCheck(ErrorCode.NONE, dup)
        if epoch < entry.epoch:
            return ProducerCheck(
                ErrorCode.INVALID_PRODUCER_EPOCH,
                message=f"epoch {epoch} of producer {producer_id} is older than {entry.epoch}",
            )
        if epoch != entry.epoch:
            if first_seq != 0 and entry.epoch != NO_PRODUCER_EPOCH:
                return ProducerCheck(
                    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                    message=f"new epoch {epoch} of producer {producer_id} starts at sequence {first_seq}, not 0",
                )
        elif entry.epoch != NO_PRODUCER_EPOCH and not _in_sequence(entry.last_seq, first_seq):
            return ProducerCheck(
                ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                message=f"producer {producer_id} sent sequence {first_seq} after {entry.last_seq}",
            )
        if entry.current_txn_first_offset is not None and not is_transactional:
            return ProducerCheck(
                ErrorCode.INVALID_TXN_STATE,
                message=f"non-transactional batch from producer {producer_id} inside a transaction",
            )
        return _OK

    # -- updates ------------------------------------------------------------------------------

    def update(
        self, producer_id: int, epoch: int, first_seq: int, last_seq: int, first_offset: int,
        last_offset: int, timestamp: int, is_transactional: bool,
        *, into: dict[int, ProducerEntry] | None = None,
    ) -> ProducerEntry:
        """Record an appended data batch (in `into` when staging a multi-batch append)."""
        target = self.producers if into is None else into
        entry = target.get(producer_id)
        if entry is None:
            base = self.producers.get(producer_id)
            entry = base.copy() if (base is not None and into is not None) else (base or ProducerEntry(producer_id))
            target[producer_id] = entry
        if entry.epoch != epoch:
            entry.batches.clear()
            entry.epoch = epoch
        entry.batches.append(BatchMetadata(first_seq, last_seq, first_offset, last_offset, timestamp))
        entry.last_timestamp = timestamp
        if is_transactional and entry.current_txn_first_offset is None:
            entry.current_txn_first_offset = first_offset
        return entry

    def update_end_txn(
        self, producer_id: int, epoch: int, coordinator_epoch: int, timestamp: int,
        *, into: dict[int, ProducerEntry] | None = None,
    ) -> int | None:
        """Record a COMMIT/ABORT marker; return the first offset of the transaction it ends."""
        target = self.producers if into is None else into
        entry = target.get(producer_id)
        if entry is None:
            base = self.producers.get(producer_id)
            entry = base.copy() if (base is not None and into is not None) else (base or ProducerEntry(producer_id))
            target[producer_id] = entry
        if entry.epoch != epoch:
            entry.batches.clear()
            entry.epoch = epoch
        first = entry.current_txn_first_offset
        entry.current_txn_first_offset = None
        entry.coordinator_epoch = coordinator_epoch
        entry.last_timestamp = timestamp
        return first

    def commit(self, staged: dict[int, ProducerEntry], end_offset: int) -> None:
        """Make staged entries current once their batches are written."""
        self.producers.update(staged)
        self.map_end_offset = end_offset

    def first_unstable_offset(self) -> int | None:
        """First offset of the oldest open transaction (for the last stable offset later)."""
        firsts = [e.current_txn_first_offset for e in self.producers.values() if e.current_txn_first_offset is not None]
        return min(firsts) if firsts else None

    def remove_expired(self, now_ms: int) -> int:
        """Forget producers idle for producer.id.expiration.ms without an open transaction."""
        expired = [
            pid for pid, e in self.producers.items()
            if e.current_txn_first_offset is None and now_ms - e.last_timestamp >= self.expiration_ms
        ]
        for pid in expired:
            del self.producers[pid]
        return len(expired)

    def truncate_fully(self, offset: int) -> None:
        """Forget everything (log truncated below its start); delete every snapshot."""
        self.producers.clear()
        for off in self.snapshot_offsets():
            _unlink(self._snapshot_path(off))
        self.map_end_offset = offset
        self.last_snapshot_offset = -1

    # -- snapshots ----------------------------------------------------------------------------

    def _snapshot_path(self, offset: int) -> str:
        return os.path.join(self.dir, file_prefix(offset) + SNAPSHOT_SUFFIX)

    def snapshot_offsets(self) -> list[int]:
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            if name.endswith(SNAPSHOT_SUFFIX):
                try:
                    out.append(offset_from_name(name))
                except ValueError:
                    continue
        return sorted(out)

    def take_snapshot(self, *, sync: bool = False) -> str | None:
        """Write `<map_end_offset>.snapshot` unless one already exists for that offset."""
        offset = self.map_end_offset
        if offset <= self.last_snapshot_offset:
            return None
        path = self._snapshot_path(offset)
        write_snapshot(path, self.producers.values(), sync=sync)
        self.last_snapshot_offset = offset
        return path

    def load(self, log_start_offset: int, log_end_offset: int, now_ms: int) -> int:
        """Load the latest usable snapshot at or below `log_end_offset`, deleting newer or
        corrupt ones; return the offset the state is valid up to (rebuild from there)."""
        self.producers.clear()
        for offset in reversed(self.snapshot_offsets()):
            path = self._snapshot_path(offset)
            if offset > log_end_offset:
                _unlink(path)
                continue
            try:
                entries = read_snapshot(path)
            except CorruptSnapshotError:
                _unlink(path)
                continue
            for e in entries:
                if e.current_txn_first_offset is not None or now_ms - e.last_timestamp < self.expiration_ms:
                    self.producers[e.producer_id] = e
            self.map_end_offset = offset
            self.last_snapshot_offset = offset
            return offset
        self.map_end_offset = log_start_offset
        self.last_snapshot_offset = -1
        return log_start_offset

    def delete_snapshots_before(self, offset: int) -> None:
        for off in self.snapshot_offsets():
            if off < offset:
                _unlink(self._snapshot_path(off))

    def delete_snapshots_after(self, offset: int) -> None:
        for off in self.snapshot_offsets():
            if off > offset:
                _unlink(self._snapshot_path(off))
        if self.last_snapshot_offset > offset:
            self.last_snapshot_offset = -1


def write_snapshot(path: str, entries, *, sync: bool = False) -> None:
    """Serialise producer entries in Kafka's snapshot format (version 1)."""
    body = bytearray()
    items = sorted(entries, key=lambda e: e.producer_id)
    for e in items:
        if e.batches:
            last = e.batches[-1]
            last_seq, last_offset, delta = last.last_seq, last.last_offset, last.last_offset - last.first_offset
        else:
            last_seq, last_offset, delta = NO_SEQUENCE, -1, 0
        txn = e.current_txn_first_offset if e.current_txn_first_offset is not None else -1
        body += _SNAP_ENTRY.pack(
            e.producer_id, e.epoch, last_seq, last_offset, delta, e.last_timestamp,
            e.coordinator_epoch, txn,
        )
    head = bytearray(_SNAP_HEADER.pack(SNAPSHOT_VERSION, 0, len(items)))
    data = head + body
    struct.pack_into(">I", data, 2, crc32c(memoryview(data)[_CRC_START:]))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def read_snapshot(path: str) -> list[ProducerEntry]:
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < _SNAP_HEADER.size:
        raise CorruptSnapshotError(f"{path}: truncated")
    version, crc, count = _SNAP_HEADER.unpack_from(data, 0)
    if version != SNAPSHOT_VERSION:
        raise CorruptSnapshotError(f"{path}: unknown version {version}")
    if crc32c(memoryview(data)[_CRC_START:]) != crc:
        raise CorruptSnapshotError(f"{path}: CRC mismatch")
    if count < 0 or len(data) != _SNAP_HEADER.size + count * _SNAP_ENTRY.size:
        raise CorruptSnapshotError(f"{path}: size does not match {count} entries")
    out = []
    for (pid, epoch, last_seq, last_offset, delta, ts, coord, txn) in _SNAP_ENTRY.iter_unpack(
        memoryview(data)[_SNAP_HEADER.size:]
    ):
        entry = ProducerEntry(pid, epoch, coordinator_epoch=coord, last_timestamp=ts,
                              current_txn_first_offset=txn if txn >= 0 else None)
        if last_offset >= 0:
            entry.batches.append(BatchMetadata(
                _decrement_sequence(last_seq, delta), last_seq, last_offset - delta, last_offset, ts,
            ))
        out.append(entry)
    return out


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass

