"""Log compaction for `cleanup.policy=compact`: keep the latest record per key below the
active segment and the high watermark, drop tombstones once their delete horizon passed, and
swap cleaned segments in atomically. A background thread picks the dirtiest log.

Tombstones follow Kafka 3.1+ (KIP-534): the first clean that keeps a tombstone rewrites its
batch with the DELETE_HORIZON flag and the horizon (now + delete.retention.ms) in
baseTimestamp, record timestamp deltas shifted so record timestamps are unchanged; a later
clean past the horizon removes the tombstone. Offsets never change: kept records keep theirs
and rewritten batches keep baseOffset, lastOffsetDelta and their producer id, epoch and base
sequence. Nothing at or past the first unstable offset (an open transaction) is touched.

Transactions follow Kafka's LogCleaner: records of aborted transactions (known from the
aborted-transaction index) never enter the offset map and are removed; an ABORT marker stays
while batches of its transaction remain in the segment (and its index entry moves to the
cleaned segment); a COMMIT marker stays while batches of its transaction remain. A marker with
nothing left to mark is kept once more with a delete horizon (now + delete.retention.ms) and
removed by a clean after that horizon, so consumers that read the data still see it.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from protocol.errors import CorruptRecordError
from protocol.records import (
    CONTROL_FLAG, DELETE_HORIZON_FLAG, HEADER_SIZE, LOG_OVERHEAD, TRANSACTIONAL_FLAG, BatchHeader, Record,
    build_batch, decode_batch, parse_end_txn_marker, read_header, record_timestamp,
)
from storage.index import NO_TIMESTAMP
from storage.segment import (
    CLEANED_SUFFIX, INDEX_SUFFIX, INT32_MAX, LOG_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX, Segment,
    file_prefix,
)
from storage.txn_index import AbortedTxn

if TYPE_CHECKING:
    from storage.log import Log
    from storage.log_manager import LogManager

logger = logging.getLogger(__name__)

_READ_CHUNK = 4 * 1024 * 1024
_WRITE_CHUNK = 1024 * 1024
_INDEX_ENTRY = struct.Struct(">ii")
_TIME_ENTRY = struct.Struct(">qi")


class CleaningAborted(Exception):
    """The log changed under the cleaner (truncation, deletion, closing); try again later."""


@dataclass(slots=True)
class CleanStats:
    """What one cleaning pass of one log did."""

    first_dirty_offset: int
    end_offset: int
    segments_before: int = 0
    segments_after: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    records_read: int = 0
    records_kept: int = 0
    tombstones_removed: int = 0
    # Largest delete horizon still pending in the cleaned part (-1: none): the log becomes
    # cleanable again when it passes, even without new dirty data (KIP-534).
    latest_delete_horizon: int = -1


@dataclass(slots=True)
class CleanPlan:
    """The cleanable part of a log, captured under its lock."""

    segments: list[Segment]  # from the first segment up to the first uncleanable one
    first_dirty: int
    uncleanable: int
    generation: int
    producer_last_offsets: dict[int, int]
    dirty_bytes: int
    total_bytes: int
    must_clean: bool = False  # max.compaction.lag.ms exceeded
    producer_epochs: dict[int, int] = field(default_factory=dict)
    log: Log | None = None

    @property
    def dirty_ratio(self) -> float:
        return self.dirty_bytes / self.total_bytes if self.total_bytes else 0.0


def plan_cleaning(log: Log, now_ms: int, *, allow_clean_only: bool = False) -> CleanPlan | None:
    """The segments a clean may touch now, or None when nothing is cleanable. With
    `allow_clean_only`, a log without dirty segments still yields a plan (to drop expired
    tombstones from its clean part)."""
    with log._lock:
        if log.closed:
            return None
        segs = list(log._segments)
        cfg = log.config
        start = log.log_start_offset
        leo = log.log_end_offset
        checkpoint = log.cleaner_checkpoint
        first_dirty = checkpoint if checkpoint is not None and start <= checkpoint <= leo else start
        uncleanable = min(segs[-1].base_offset, log.high_watermark)
        unstable = log.first_unstable_offset()
        if unstable is not None:
            uncleanable = min(uncleanable, unstable)
        if cfg.min_compaction_lag_ms > 0:
            for seg in segs[:-1]:
                if seg.base_offset >= first_dirty and seg.largest_timestamp() > now_ms - cfg.min_compaction_lag_ms:
                    uncleanable = min(uncleanable, seg.base_offset)
                    break
        cleanable = [s for i, s in enumerate(segs[:-1]) if segs[i + 1].base_offset <= uncleanable]
        if not cleanable:
            return None
        uppers = [segs[i + 1].base_offset for i in range(len(cleanable))]
        dirty = [s for s, up in zip(cleanable, uppers) if up > first_dirty]
        if not dirty and not allow_clean_only:
            return None
        must = False
        if dirty and cfg.max_compaction_lag_ms < (1 << 62):
            first_ts = _first_batch_timestamp(dirty[0])
            must = first_ts > NO_TIMESTAMP and now_ms - first_ts > cfg.max_compaction_lag_ms
        return CleanPlan(
            segments=cleanable, first_dirty=min(first_dirty, uppers[-1]), uncleanable=uppers[-1],
            generation=log._truncations,
            producer_last_offsets={
                pid: e.last_data_offset for pid, e in log.producer_state.producers.items()
            },
            dirty_bytes=sum(s.size for s in dirty), total_bytes=sum(s.size for s in cleanable),
            must_clean=must,
            producer_epochs={pid: e.epoch for pid, e in log.producer_state.producers.items()},
            log=log,
        )


def _first_batch_timestamp(seg: Segment) -> int:
    for _p, _b, _d, _s, ts in seg.scan_headers(0):
        return ts
    return NO_TIMESTAMP


def _iter_batches(path: str) -> Iterator[tuple[bytes, int, BatchHeader]]:
    """(buffer, position, header) of each batch of a segment file, read with its own fd."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(fd).st_size
        pos = 0
        while size - pos >= HEADER_SIZE:
            buf = os.pread(fd, min(_READ_CHUNK, size - pos), pos)
            i = 0
            n = len(buf)
            while n - i >= HEADER_SIZE:
                h = read_header(buf, i)
                bsize = h.batch_length + LOG_OVERHEAD
                if bsize < HEADER_SIZE:
                    raise CorruptRecordError(f"{path}: bad batch length at {pos + i}")
                if n - i < bsize:
                    if i == 0:
                        buf = os.pread(fd, bsize, pos)
                        n = len(buf)
                        if n < bsize:
                            return
                        continue
                    break
                yield buf, i, h
                i += bsize
            pos += i
    finally:
        os.close(fd)


class _TxnTracker:
    """Which batches belong to aborted transactions, and which markers may go (Kafka's
    CleanedTransactionMetadata), fed batches in offset order."""

    def __init__(self) -> None:
        self.aborted: deque[AbortedTxn] = deque()
        self.ongoing_aborted: dict[int, list] = {}  # pid -> [AbortedTxn, last batch offset seen]
        self.ongoing_committed: set[int] = set()
        self.index: list[AbortedTxn] = []  # entries of markers kept, for the cleaned segment

    def add_aborted(self, txns: list[AbortedTxn]) -> None:
        known = {(t.producer_id, t.first_offset) for t in self.aborted}
        for t in sorted(txns, key=lambda t: t.first_offset):
            if (t.producer_id, t.first_offset) not in known:
                self.aborted.append(t)

    def _consume_up_to(self, offset: int) -> None:
        while self.aborted and self.aborted[0].first_offset <= offset:
            t = self.aborted.popleft()
            self.ongoing_aborted.setdefault(t.producer_id, [t, None])

    def on_batch(self, h: BatchHeader) -> bool:
        """A data batch; True when it belongs to an aborted transaction."""
        self._consume_up_to(h.base_offset + h.last_offset_delta)
        if not h.attributes & TRANSACTIONAL_FLAG:
            return False
        entry = self.ongoing_aborted.get(h.producer_id)
        if entry is not None:
            entry[1] = h.base_offset + h.last_offset_delta
            return True
        self.ongoing_committed.add(h.producer_id)
        return False

    def on_control(self, h: BatchHeader, records: list[Record]) -> bool:
        """A control batch; True when it marks nothing that is left (it may be removed)."""
        self._consume_up_to(h.base_offset + h.last_offset_delta)
        if not records:
            return True
        try:
            marker = parse_end_txn_marker(records[0])
        except CorruptRecordError:
            return False  # another control type: kept
        pid = h.producer_id
        if not marker.is_commit:
            entry = self.ongoing_aborted.pop(pid, None)
            if entry is not None and entry[1] is not None:
                self.index.append(entry[0])
                return False
            return True
        if pid in self.ongoing_committed:
            self.ongoing_committed.discard(pid)
            return False
        return True


def _aborted_in(plan: CleanPlan, start: int, upper: int) -> list[AbortedTxn]:
    return plan.log.collect_aborted_transactions(start, upper) if plan.log is not None else []


def build_offset_map(plan: CleanPlan, max_entries: int) -> tuple[dict[bytes, int], int, int]:
    """key -> latest offset over the dirty segments, records of aborted transactions left out;
    stops at a segment boundary once the map holds `max_entries` keys. Returns (map, end
    offset covered, records read)."""
    offsets: dict[bytes, int] = {}
    end = plan.first_dirty
    read = 0
    segs = plan.segments
    txns = _TxnTracker()
    txns.add_aborted(_aborted_in(plan, plan.first_dirty, plan.uncleanable))
    for i, seg in enumerate(segs):
        upper = segs[i + 1].base_offset if i + 1 < len(segs) else plan.uncleanable
        if upper <= plan.first_dirty:
            continue
        if offsets and len(offsets) >= max_entries:
            break
        for buf, pos, h in _iter_batches(seg.log_ref.path):
            if h.attributes & CONTROL_FLAG:
                if h.producer_id >= 0:
                    txns.on_control(h, decode_batch(buf, pos)[1])
                continue
            if txns.on_batch(h):
                continue
            header, records = decode_batch(buf, pos)
            base = header.base_offset
            for r in records:
                read += 1
                off = base + r.offset_delta
                if r.key is not None and off >= plan.first_dirty:
                    offsets[r.key] = off
        end = upper
    return offsets, end, read


class _SegmentWriter:
    """Writes one cleaned segment (`.cleaned` files) and its indexes by Kafka's rules."""

    def __init__(self, directory: str, base: int, interval: int, index_max_entries: int) -> None:
        self.stem = os.path.join(directory, file_prefix(base))
        self.base = base
        self.interval = interval
        self.index_max_entries = index_max_entries
        self.path = self.stem + LOG_SUFFIX + CLEANED_SUFFIX
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)
        self.pending = bytearray()
        self.size = 0
        self.since = 0
        self.max_ts = NO_TIMESTAMP
        self.max_off = base
        self.index = bytearray()
        self.time_index = bytearray()
        self.last_index_ts = NO_TIMESTAMP
        self.txn_entries: list[AbortedTxn] = []

    def write(self, batch: bytes | memoryview, last_offset: int, max_ts: int) -> None:
        if max_ts > self.max_ts:
            self.max_ts, self.max_off = max_ts, last_offset
        if self.since > self.interval and len(self.index) // 8 < self.index_max_entries:
            self.index += _INDEX_ENTRY.pack(last_offset - self.base, self.size)
            if self.max_ts > self.last_index_ts:
                self.time_index += _TIME_ENTRY.pack(self.max_ts, self.max_off - self.base)
                self.last_index_ts = self.max_ts
            self.since = 0
        self.pending += batch
        self.size += len(batch)
        self.since += len(batch)
        if len(self.pending) >= _WRITE_CHUNK:
            self._drain()

    def _drain(self) -> None:
        with memoryview(self.pending) as whole:
            view = whole
            while view:
                view = view[os.write(self.fd, view):]
            view.release()
        self.pending = bytearray()

    def finish(self, mtime: float | None) -> None:
        """Write out, add the final time-index entry, fsync every file."""
        self._drain()
        os.fsync(self.fd)
        os.close(self.fd)
        if self.max_ts > self.last_index_ts:
            self.time_index += _TIME_ENTRY.pack(self.max_ts, self.max_off - self.base)
        for suffix, data in ((INDEX_SUFFIX, self.index), (TIME_INDEX_SUFFIX, self.time_index)):
            path = self.stem + suffix + CLEANED_SUFFIX
            with open(path, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        if self.txn_entries:
            with open(self.stem + TXN_INDEX_SUFFIX + CLEANED_SUFFIX, "wb") as f:
                f.write(b"".join(e.pack() for e in self.txn_entries))
                f.flush()
                os.fsync(f.fileno())
        if mtime is not None:
            os.utime(self.path, (mtime, mtime))

    def discard(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass
        for suffix in (LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX):
            try:
                os.unlink(self.stem + suffix + CLEANED_SUFFIX)
            except FileNotFoundError:
                pass


def group_segments(segments: list[Segment], max_bytes: int, max_index_entries: int) -> list[list[Segment]]:
    """Consecutive segments merged while the result stays within segment.bytes, the index
    size and the int32 relative-offset range (as Kafka's groupSegmentsBySize)."""
    groups: list[list[Segment]] = []
    i = 0
    n = len(segments)
    while i < n:
        group = [segments[i]]
        size = segments[i].size
        entries = max(0, segments[i].index.entries)
        i += 1
        while i < n:
            seg = segments[i]
            upper = segments[i + 1].base_offset if i + 1 < n else None
            span_ok = upper is None or upper - 1 - group[0].base_offset <= INT32_MAX
            if size + seg.size > max_bytes or entries + max(0, seg.index.entries) > max_index_entries or not span_ok:
                break
            group.append(seg)
            size += seg.size
            entries += max(0, seg.index.entries)
            i += 1
        groups.append(group)
    return groups


def _rewrite(h: BatchHeader, records: list[Record], kept: list[Record], horizon: int | None) -> bytes:
    """A batch holding `kept`, with the original offsets and producer metadata."""
    if horizon is not None:
        new_base = horizon
        adjusted = [
            Record(r.offset_delta, h.base_timestamp + r.timestamp_delta - new_base, r.key, r.value,
                   r.headers, r.attributes)
            for r in kept
        ]
    else:
        new_base = h.base_timestamp
        adjusted = kept
    if h.timestamp_type == 1 or not kept:
        max_ts = h.max_timestamp
    else:
        max_ts = max(record_timestamp(h, r) for r in kept)
    return build_batch(
        adjusted, base_offset=h.base_offset, compression=h.compression,
        producer_id=h.producer_id, producer_epoch=h.producer_epoch, base_sequence=h.base_sequence,
        is_transactional=h.is_transactional, is_control=h.is_control,
        has_delete_horizon=horizon is not None, partition_leader_epoch=h.partition_leader_epoch,
        timestamp_type=h.timestamp_type, base_timestamp=new_base if kept else max_ts,
        max_timestamp=max_ts, last_offset_delta=h.last_offset_delta,
    )


def clean_log(log: Log, now_ms: int | None = None, *, max_map_entries: int = 1 << 20,
              force: bool = False) -> CleanStats | None:
    """Compact `log` once if it is dirty enough (or `force`); None when nothing was done."""
    now = log._clock() if now_ms is None else now_ms
    if not log.config.compact:
        return None
    horizon_due = 0 <= log.latest_delete_horizon <= now
    plan = plan_cleaning(log, now, allow_clean_only=force or horizon_due)
    if plan is None:
        return None
    if (not force and not plan.must_clean and not horizon_due
            and plan.dirty_ratio < log.config.min_cleanable_dirty_ratio):
        return None
    offsets, end, read = build_offset_map(plan, max_map_entries)
    stats = CleanStats(first_dirty_offset=plan.first_dirty, end_offset=end, records_read=read)
    to_clean = []
    for i, seg in enumerate(plan.segments):
        upper = plan.segments[i + 1].base_offset if i + 1 < len(plan.segments) else plan.uncleanable
        if upper > end:
            break
        to_clean.append(seg)
    cfg = log.config
    for group in group_segments(to_clean, cfg.segment_bytes, max(1, cfg.segment_index_bytes // 8)):
        stats.segments_before += len(group)
        stats.bytes_before += sum(s.size for s in group)
        writer = _SegmentWriter(log._dirname, group[0].base_offset, cfg.index_interval_bytes,
                                max(1, cfg.segment_index_bytes // 8))
        try:
            _clean_group(group, offsets, plan, writer, stats, now, cfg.delete_retention_ms)
            try:
                mtime = os.stat(group[-1].log_ref.path).st_mtime
            except FileNotFoundError:
                raise CleaningAborted("segment vanished") from None
            writer.finish(mtime)
            if not log.swap_cleaned_segment(group, group[0].base_offset, plan.generation):
                raise CleaningAborted("log changed during cleaning")
        except BaseException:
            writer.discard()
            raise
        stats.segments_after += 1
        stats.bytes_after += writer.size
    with log._lock:
        if plan.generation == log._truncations:
            log.cleaner_checkpoint = end
            log.latest_delete_horizon = stats.latest_delete_horizon
    return stats


def _clean_group(group: list[Segment], offsets: dict[bytes, int], plan: CleanPlan,
                 writer: _SegmentWriter, stats: CleanStats, now: int, delete_retention_ms: int) -> None:
    producer_last = plan.producer_last_offsets
    txns = _TxnTracker()
    txns.index = writer.txn_entries
    for k, seg in enumerate(group):
        upper = group[k + 1].base_offset if k + 1 < len(group) else seg.read_next_offset()
        txns.add_aborted(_aborted_in(plan, seg.base_offset, upper))
        for buf, pos, h in _iter_batches(seg.log_ref.path):
            size = h.batch_length + LOG_OVERHEAD
            last = h.base_offset + h.last_offset_delta
            if h.attributes & CONTROL_FLAG:
                _clean_control(buf, pos, h, txns, plan, writer, stats, now, delete_retention_ms)
                continue
            if h.producer_id >= 0 and txns.on_batch(h):
                # An aborted transaction's batch: its records go; the batch stays empty only
                # when it is its producer's last (to keep the producer's sequence).
                if producer_last.get(h.producer_id) == last:
                    header, records = decode_batch(buf, pos)
                    writer.write(_rewrite(header, records, [], None), last, header.max_timestamp)
                continue
            header, records = decode_batch(buf, pos)
            base = header.base_offset
            has_horizon = bool(header.attributes & DELETE_HORIZON_FLAG)
            horizon = header.base_timestamp if has_horizon else None
            kept = []
            tombstone_kept = False
            for r in records:
                key = r.key
                off = base + r.offset_delta
                if key is None:
                    continue  # keyless records do not survive compaction (Kafka drops them too)
                latest = offsets.get(key)
                if latest is not None and off < latest:
                    continue
                if r.value is None:
                    if horizon is not None and now >= horizon:
                        stats.tombstones_removed += 1
                        continue
                    tombstone_kept = True
                kept.append(r)
            stats.records_kept += len(kept)
            new_horizon = horizon
            if tombstone_kept and horizon is None:
                new_horizon = now + delete_retention_ms
            if tombstone_kept and new_horizon is not None:
                stats.latest_delete_horizon = max(stats.latest_delete_horizon, new_horizon)
            if len(kept) == len(records) and new_horizon == horizon:
                writer.write(memoryview(buf)[pos:pos + size], last, h.max_timestamp)
                continue
            if not kept:
                # The last batch of a live producer stays (empty) so its sequence survives.
                if header.producer_id >= 0 and producer_last.get(header.producer_id) == last:
                    data = _rewrite(header, records, [], None)
                    writer.write(data, last, header.max_timestamp)
                continue
            data = _rewrite(header, records, kept, new_horizon)
            new_h = read_header(data, 0)
            writer.write(data, last, new_h.max_timestamp)


def _clean_control(buf: bytes, pos: int, h: BatchHeader, txns: _TxnTracker, plan: CleanPlan,
                   writer: _SegmentWriter, stats: CleanStats, now: int, delete_retention_ms: int) -> None:
    """Keep or drop a control batch; a marker with nothing left to mark gets a delete horizon
    first and goes once the horizon has passed."""
    size = h.batch_length + LOG_OVERHEAD
    last = h.base_offset + h.last_offset_delta
    original = memoryview(buf)[pos:pos + size]
    if h.producer_id < 0:
        writer.write(original, last, h.max_timestamp)
        return
    header, records = decode_batch(buf, pos)
    discardable = txns.on_control(h, records)
    # The marker of a live producer with no data left keeps the producer's epoch known.
    last_of_producer = (plan.producer_last_offsets.get(h.producer_id) == -1
                        and plan.producer_epochs.get(h.producer_id) == h.producer_epoch)
    if not discardable or last_of_producer:
        writer.write(original, last, h.max_timestamp)
        return
    if header.has_delete_horizon:
        if header.base_timestamp <= now:
            return  # removed
        stats.latest_delete_horizon = max(stats.latest_delete_horizon, header.base_timestamp)
        writer.write(original, last, h.max_timestamp)
        return
    horizon = now + delete_retention_ms
    stats.latest_delete_horizon = max(stats.latest_delete_horizon, horizon)
    data = _rewrite(header, records, records, horizon)
    writer.write(data, last, read_header(data, 0).max_timestamp)


@dataclass(slots=True)
class CleanerState:
    """Counters for metrics and tests."""

    cleaned: int = 0
    errors: int = 0
    last: CleanStats | None = None


class LogCleaner:
    """The background compaction thread of a LogManager (one thread, as a default Kafka)."""

    def __init__(self, manager: LogManager, *, backoff_ms: int = 15_000, max_map_entries: int = 1 << 20) -> None:
        self.manager = manager
        self.backoff_ms = backoff_ms
        self.max_map_entries = max_map_entries
        self.state = CleanerState()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="log-cleaner", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wakeup(self) -> None:
        """Look for work now instead of after the backoff."""
        self._wake.set()

    def abort(self, log: Log) -> None:
        """The log is going away. Nothing to do beyond closing it: a clean in progress fails
        its swap (the log is closed) and discards its files."""

    def clean_once(self, now_ms: int | None = None) -> CleanStats | None:
        """Clean the dirtiest compacted log that needs it; None when none does."""
        now = self.manager.clock() if now_ms is None else now_ms
        best: tuple[float, Log] | None = None
        for log in self.manager.all_logs().values():
            if not log.config.compact or log.closed:
                continue
            horizon_due = 0 <= log.latest_delete_horizon <= now
            plan = plan_cleaning(log, now, allow_clean_only=horizon_due)
            if plan is None:
                continue
            # Logs past max.compaction.lag.ms come first, then the dirtiest; logs whose
            # tombstones expired are cleaned when nothing is dirty enough.
            ratio = plan.dirty_ratio + (1.0 if plan.must_clean else 0.0)
            if ratio < log.config.min_cleanable_dirty_ratio:
                if not horizon_due:
                    continue
                ratio = 0.0
            if best is None or ratio > best[0]:
                best = (ratio, log)
        if best is None:
            return None
        try:
            stats = clean_log(best[1], now, max_map_entries=self.max_map_entries)
        except (CleaningAborted, FileNotFoundError) as e:
            logger.info("cleaning of %s aborted: %s", best[1], e)
            return None
        if stats is not None:
            self.state.cleaned += 1
            self.state.last = stats
        return stats

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                stats = self.clean_once()
            except Exception:  # a broken log must not kill the cleaner thread
                self.state.errors += 1
                logger.exception("log cleaner failed")
                stats = None
            if stats is None:
                self._wake.wait(self.backoff_ms / 1000)
                self._wake.clear()
