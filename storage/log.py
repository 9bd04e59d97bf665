"""One partition's log: an ordered list of segments with appends, reads, rolls, truncation,
retention, flushing and recovery on open.

Threading contract: every public method takes the log's lock. The broker calls everything from
its event loop except `flush()` (fsync; run it in an executor) and the cleaner thread, which
holds the lock only to swap cleaned segments in. Appends and reads never fsync.
"""

from __future__ import annotations

import bisect
import logging
import os
import shutil
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from protocol.errors import CorruptRecordError, ErrorCode
from protocol.records import (
    CONTROL_FLAG, LOG_OVERHEAD, TRANSACTIONAL_FLAG, BatchHeader, ControlType, build_end_txn_batch,
    decode_records, parse_end_txn_marker, set_base_offset, set_max_timestamp_log_append,
    set_partition_leader_epoch,
)
from storage.batches import (
    ATTRIBUTES as B_ATTRIBUTES, BASE_OFFSET as B_BASE_OFFSET, BASE_TIMESTAMP as B_BASE_TIMESTAMP,
    LAST_OFFSET_DELTA as B_LAST_OFFSET_DELTA,
    LEADER_EPOCH as B_LEADER_EPOCH, MAX_TIMESTAMP as B_MAX_TIMESTAMP,
    RECORDS_COUNT as B_RECORDS_COUNT, BatchTooLarge, Header, last_sequence, validate_payload,
)
from storage.config import LogConfig
from storage.errors import (
    InvalidTimestampError, LogClosedError, OffsetOutOfRangeError, OffsetsOutOfOrderError, RecordTooLargeError, StorageError,
)
from storage.files import FileCache, fsync_dir, fsync_path
from storage.index import NO_TIMESTAMP, CorruptIndexError
from storage.leader_epoch import LeaderEpochCache
from storage.producer_state import (
    DEFAULT_PRODUCER_ID_EXPIRATION_MS, CorruptSnapshotError, ProducerCheck, ProducerEntry,
    ProducerStateManager, read_snapshot,
)
from storage.recovery import complete_swap, delete_segment_files, recover_segment, remove_leftovers
from storage import retention
from storage.segment import (
    CLEANED_SUFFIX, INDEX_SUFFIX, INT32_MAX, LOG_SUFFIX, SWAP_SUFFIX, TIME_INDEX_SUFFIX,
    TXN_INDEX_SUFFIX, Segment, file_prefix, offset_from_name,
)
from storage.txn_index import AbortedTxn

logger = logging.getLogger(__name__)

Clock = Callable[[], int]

# baseOffset, batchLength and partitionLeaderEpoch: the header prefix a leader rewrites.
_OFFSET_LENGTH_EPOCH = struct.Struct(">qii")
_PATCHED = _OFFSET_LENGTH_EPOCH.size


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class ProducerStateError(StorageError):
    """A client batch rejected by producer-state validation; `error_code` is Kafka's."""

    def __init__(self, check: ProducerCheck) -> None:
        super().__init__(check.message or check.error.name)
        self.check = check
        self.error_code = check.error


@dataclass(slots=True)
class AppendResult:
    """What an append did, in the shape a Produce response needs."""

    first_offset: int
    last_offset: int
    max_timestamp: int
    offset_of_max_timestamp: int
    log_append_time_ms: int  # -1 for CreateTime topics
    log_start_offset: int
    record_count: int
    valid_bytes: int
    duplicate: bool = False  # an idempotent retry: nothing written, offsets are the original's
    needs_flush: bool = False  # flush.messages reached: run `flush()` off the event loop
    rolled: bool = False  # a segment was rolled: the broker may flush up to the new segment


@dataclass(slots=True)
class ReadResult:
    """Whole batches from one segment (`records` is bytes-like), and the offsets a Fetch
    response reports."""

    records: bytes | memoryview
    high_watermark: int
    log_start_offset: int
    log_end_offset: int

    @property
    def size(self) -> int:
        return len(self.records)


class Log:
    """A partition log on disk. Create it with `Log.open`."""

    def __init__(self, directory: Path, config: LogConfig, clock: Clock, cache: FileCache,
                 producer_id_expiration_ms: int) -> None:
        self.dir = Path(directory)
        self._dirname = str(self.dir)
        self.config = config
        self._stamp = config.log_append_time
        self._flush_messages = config.flush_messages
        self._clock = clock
        self.cache = cache
        self._lock = threading.RLock()
        self._segments: list[Segment] = []
        self._bases: list[int] = []
        self._leo = 0
        self._log_start = 0
        self._hw = 0
        self.recovery_point = 0
        self._truncations = 0
        self._dir_dirty = False
        self._last_flush_ms = clock()
        self._pending_deletes: list[tuple[int, list[str]]] = []
        self._closed = False
        self.producer_state = ProducerStateManager(self._dirname, expiration_ms=producer_id_expiration_ms)
        self.leader_epochs = LeaderEpochCache(self._dirname, load=False)
        # Offsets below this have been compacted (the cleaner checkpoint of this log).
        self.cleaner_checkpoint: int | None = None
        self.latest_delete_horizon = -1
        # Transactions whose marker is written but not yet below the high watermark, as
        # (first offset, marker offset): they still hold the last stable offset back.
        self._unreplicated_txns: list[tuple[int, int]] = []

    # ------------------------------------------------------------------------------------------
    # opening and recovery

    @classmethod
    def open(
        cls, directory: Path | str, config: LogConfig | None = None, *, clock: Clock | None = None,
        cache: FileCache | None = None, recovery_point: int = 0, log_start_offset: int = 0,
        high_watermark: int | None = None, clean_shutdown: bool = False,
        producer_id_expiration_ms: int = DEFAULT_PRODUCER_ID_EXPIRATION_MS,
    ) -> Log:
        """Open (creating if needed) the log in `directory`.

        After a clean shutdown the segments are trusted: only file sizes and the active
        segment's last index entry are read. Otherwise every segment from the one holding
        `recovery_point` on is scanned, cut at the first invalid byte, and re-indexed.
        `recovery_point` and `log_start_offset` come from the log dir's checkpoint files.
        """
        log = cls(Path(directory), config or LogConfig(), clock or wall_clock_ms,
                  cache or FileCache(), producer_id_expiration_ms)
        os.makedirs(log._dirname, exist_ok=True)
        log._load(recovery_point, log_start_offset, high_watermark, clean_shutdown)
        return log

    def _load(self, recovery_point: int, log_start: int, hw: int | None, clean: bool) -> None:
        d = self._dirname
        cfg = self.config
        now = self._clock()
        rebuild: set[int] = set()
        for swap in remove_leftovers(d):
            rebuild.add(complete_swap(d, swap))
        bases = sorted(
            offset_from_name(n) for n in os.listdir(d)
            if n.endswith(LOG_SUFFIX) and n[:-len(LOG_SUFFIX)].isdigit()
        )
        segs = [
            Segment.load(d, b, self.cache, index_interval=cfg.index_interval_bytes,
                         index_max_bytes=cfg.segment_index_bytes, now_ms=now)
            for b in bases
        ]
        if not segs:
            segs = [self._new_segment(log_start, now)]
            clean = True
        self._segments = segs
        self._bases = [s.base_offset for s in segs]
        self.leader_epochs = LeaderEpochCache(d)

        if clean:
            first_scan = len(segs)
        else:
            first_scan = max(0, bisect.bisect_right(self._bases, recovery_point) - 1)
        on_batch = self._recovery_callback()
        min_offset = 0
        rescanned: list[Segment] = []
        i = 0
        while i < len(self._segments):
            seg = self._segments[i]
            active = i == len(self._segments) - 1
            if i >= first_scan or not seg.indexes_ok or seg.base_offset in rebuild:
                rescanned.append(seg)
                result = recover_segment(seg, self.cache, min_offset=min_offset, on_batch=on_batch,
                                         active=active, preallocate=True)
                if (not active and not result.truncated_bytes
                        and seg.next_offset != self._segments[i + 1].base_offset):
                    # Valid to its end but short of the next segment: a lost tail, or offsets
                    # thinned by compaction (also after a later switch to delete). Kafka keeps
                    # what follows, and so does this: no valid batch is dropped.
                    logger.warning("%s ends at offset %s, before the next segment's base %s",
                                   seg, seg.next_offset, self._segments[i + 1].base_offset)
                if result.truncated_bytes and not active:
                    # Everything after the first invalid byte goes, as in Kafka.
                    for dead in self._segments[i + 1:]:
                        logger.warning("deleting %s after corruption in an earlier segment", dead)
                        delete_segment_files(dead)
                    del self._segments[i + 1:]
                    active = True
                    seg.make_active(now)
            elif active:
                try:
                    seg.make_active(now)
                    seg.index.sanity_check(max(seg.size, 1))
                    seg.time_index.sanity_check()
                except CorruptIndexError as e:
                    logger.warning("rebuilding indexes of %s: %s", seg, e)
                    recover_segment(seg, self.cache, min_offset=min_offset, on_batch=on_batch, active=True)
            if seg.next_offset is not None:
                min_offset = seg.next_offset
            else:
                nxt = self._segments[i + 1].base_offset if i + 1 < len(self._segments) else seg.base_offset
                min_offset = nxt
            i += 1
        self._bases = [s.base_offset for s in self._segments]
        active_seg = self._segments[-1]
        self._leo = active_seg.read_next_offset()
        self._log_start = max(log_start, self._segments[0].base_offset)
        if self._log_start > self._leo:
            # The log start checkpoint is ahead of what survived: start over there (Kafka too).
            self._truncate_fully_locked(self._log_start, now)
        self.recovery_point = self._leo if clean else min(recovery_point, self._leo)
        self._hw = self._clamp(hw if hw is not None else self._log_start)
        self.leader_epochs.truncate_from_end(self._leo)
        self.leader_epochs.truncate_from_start(self._log_start)
        if self.leader_epochs.dirty:
            self.leader_epochs.write(sync=False)
        self._load_producer_state(clean, now)
        rescanned = [s for s in rescanned if any(s is t for t in self._segments)]
        if rescanned:
            self._rebuild_txn_indexes(rescanned)

    def _recovery_callback(self) -> Callable[[BatchHeader, bytes, int], None]:
        epochs = self.leader_epochs

        def on_batch(h: BatchHeader, _buf: bytes, _pos: int) -> None:
            ple = h.partition_leader_epoch
            if ple >= 0:
                latest = epochs.latest_epoch
                if latest is None or ple > latest:
                    epochs.assign(ple, h.base_offset)

        return on_batch

    def _load_producer_state(self, clean: bool, now: int) -> None:
        psm = self.producer_state
        start = psm.load(self._log_start, self._leo, now)
        if start >= self._leo:
            psm.map_end_offset = self._leo
            return
        if clean and psm.last_snapshot_offset < 0:
            # Kafka skips the full rebuild after a clean shutdown without snapshots.
            psm.map_end_offset = self._leo
            return
        self._rebuild_producer_state(max(start, self._log_start))

    def _rebuild_producer_state(self, from_offset: int) -> None:
        """Replay batch headers from `from_offset` to the log end into the producer state."""
        psm = self.producer_state
        i = max(0, bisect.bisect_right(self._bases, from_offset) - 1)
        for seg in self._segments[i:]:
            pos = seg.find_position(from_offset) if seg.base_offset <= from_offset else 0
            if pos is None:
                continue
            for p, h in seg.iter_headers(pos):
                if h.base_offset + h.last_offset_delta < from_offset:
                    continue
                if h.producer_id >= 0:
                    self._apply_producer_batch(
                        h.producer_id, h.producer_epoch, h.base_sequence, h.last_offset_delta,
                        h.attributes, h.base_offset, h.max_timestamp, None, seg=seg, pos=p,
                        size=h.batch_length + LOG_OVERHEAD,
                    )
        psm.map_end_offset = self._leo

    def _apply_producer_batch(
        self, producer_id: int, producer_epoch: int, base_sequence: int, last_offset_delta: int,
        attributes: int, base_offset: int, timestamp: int,
        staged: dict[int, ProducerEntry] | None, *, seg: Segment | None = None, pos: int = 0,
        size: int = 0, buf: bytes | bytearray | memoryview | None = None,
    ) -> tuple[int, int, int, bool] | None:
        """Feed one batch's producer metadata to the producer state (staged or current).
        A marker ending a non-empty transaction returns (producer id, first offset, marker
        offset, aborted)."""
        psm = self.producer_state
        if attributes & CONTROL_FLAG:
            data = buf if buf is not None else self.cache.pread(seg.log_ref, size, pos)  # type: ignore[union-attr]
            try:
                recs = decode_records(data, pos if buf is not None else 0, verify_crc=False)
                marker = parse_end_txn_marker(recs[0]) if recs else None
            except CorruptRecordError:
                marker = None  # not a transaction marker (e.g. a leader-change record)
            if marker is not None:
                first = psm.update_end_txn(producer_id, producer_epoch, marker.coordinator_epoch,
                                           timestamp, into=staged)
                if first is not None:
                    return producer_id, first, base_offset, not marker.is_commit
            return None
        psm.update(
            producer_id, producer_epoch, base_sequence, last_sequence(base_sequence, last_offset_delta),
            base_offset, base_offset + last_offset_delta, timestamp,
            bool(attributes & TRANSACTIONAL_FLAG), into=staged,
        )

    def _new_segment(self, base: int, now: int) -> Segment:
        cfg = self.config
        return Segment.create(self._dirname, base, self.cache, index_interval=cfg.index_interval_bytes,
                              index_max_bytes=cfg.segment_index_bytes, now_ms=now,
                              preallocate_log=cfg.segment_bytes if cfg.preallocate else 0)

    def update_config(self, config: LogConfig) -> None:
        """Apply changed topic configs (IncrementalAlterConfigs); they act from the next
        append, roll or retention pass, as in Kafka."""
        with self._lock:
            self.config = config
            self._stamp = config.log_append_time
            self._flush_messages = config.flush_messages
            for seg in self._segments:
                seg.index_interval = config.index_interval_bytes

    # ------------------------------------------------------------------------------------------
    # offsets

    @property
    def log_start_offset(self) -> int:
        return self._log_start

    @property
    def log_end_offset(self) -> int:
        return self._leo

    @property
    def high_watermark(self) -> int:
        return self._hw

    @high_watermark.setter
    def high_watermark(self, value: int) -> None:
        with self._lock:
            self._hw = self._clamp(value)
            if self._unreplicated_txns:
                self._unreplicated_txns = [t for t in self._unreplicated_txns if t[1] >= self._hw]

    def _clamp(self, value: int) -> int:
        return max(self._log_start, min(value, self._leo))

    @property
    def size_in_bytes(self) -> int:
        return sum(s.size for s in self._segments)

    @property
    def number_of_segments(self) -> int:
        return len(self._segments)

    @property
    def active_segment(self) -> Segment:
        return self._segments[-1]

    def segments(self) -> list[Segment]:
        """A snapshot of the segment list (oldest first)."""
        return list(self._segments)

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise LogClosedError(f"log {self._dirname} is closed")

    # ------------------------------------------------------------------------------------------
    # appends

    def _validate(self, view: memoryview) -> list[tuple[int, int, Header]]:
        """Validate every batch of a payload before anything is written (all or nothing)."""
        cfg = self.config
        try:
            found = validate_payload(view, cfg.max_message_bytes)
        except BatchTooLarge as e:
            raise RecordTooLargeError(
                f"batch of {e.size} bytes exceeds max.message.bytes {cfg.max_message_bytes}"
            ) from None
        if len(view) > cfg.segment_bytes:
            err = RecordTooLargeError(f"append of {len(view)} bytes exceeds segment.bytes {cfg.segment_bytes}")
            err.error_code = ErrorCode.RECORD_LIST_TOO_LARGE
            raise err
        return found

    def _check_timestamps(self, found: list[tuple[int, int, Header]], now: int) -> None:
        """CreateTime batches must lie within message.timestamp.before/after.max.ms of now."""
        cfg = self.config
        latest = now + cfg.message_timestamp_after_max_ms
        earliest = now - cfg.message_timestamp_before_max_ms
        for _pos, _size, h in found:
            if (h[B_MAX_TIMESTAMP] > latest or h[B_BASE_TIMESTAMP] < earliest) and not h[B_ATTRIBUTES] & CONTROL_FLAG:
                raise InvalidTimestampError(f"timestamp {h[B_MAX_TIMESTAMP]} is outside the range the topic allows")

    def append(
        self, batches: bytes | bytearray | memoryview, *, leader_epoch: int,
        log_append_time_ms: int | None = None, validate_producers: bool = True,
    ) -> AppendResult:
        """Append as leader: validate, assign offsets, stamp LogAppendTime when configured,
        check and update producer state, write. The caller's buffer is not modified.

        Raises CorruptRecordError, RecordTooLargeError or ProducerStateError with nothing
        written. An idempotent retry returns `duplicate=True` with the original offsets.
        `validate_producers=False` skips sequence checks (Kafka's coordinator appends).
        """
        view = memoryview(batches).cast("B")
        found = self._validate(view)
        with self._lock:
            if self._closed:
                raise LogClosedError(f"log {self._dirname} is closed")
            if not found:
                return AppendResult(-1, -1, NO_TIMESTAMP, -1, -1, self._log_start, 0, 0)
            stamp = self._stamp
            now = self._clock()
            append_time = (log_append_time_ms if log_append_time_ms is not None else now) if stamp else -1
            if not stamp:
                self._check_timestamps(found, now)
            # Without LogAppendTime only baseOffset and partitionLeaderEpoch change, and the CRC
            # does not cover them: write a new 16-byte prefix per batch and the rest of it
            # straight from the caller's buffer in one gather write (no copy of the payload).
            whole = bytearray(view) if stamp else None
            iov: list[bytes | bytearray | memoryview] = []
            psm = self.producer_state
            offset = first = self._leo
            metas: list[tuple[int, int, int]] = []
            staged: dict[int, ProducerEntry] | None = None
            completed: list[tuple[int, int, int, bool]] | None = None
            max_ts, max_ts_off, records = NO_TIMESTAMP, first, 0
            for pos, size, h in found:
                (_b, length, _e, _m, _c, attrs, delta, _bt, batch_max_ts, pid, pepoch, bseq, count) = h
                last = offset + delta
                ts = append_time if stamp else batch_max_ts
                if pid >= 0:
                    if validate_producers and not attrs & CONTROL_FLAG:
                        check = psm.check_and_prepare(
                            pid, pepoch, bseq, last_sequence(bseq, delta),
                            bool(attrs & TRANSACTIONAL_FLAG), pending=staged,
                        )
                        if check.duplicate is not None:
                            d = check.duplicate
                            return AppendResult(
                                d.first_offset, d.last_offset, d.timestamp, d.last_offset,
                                d.timestamp, self._log_start, 0, 0, duplicate=True,
                            )
                        if not check.ok:
                            raise ProducerStateError(check)
                    if staged is None:
                        staged = {}
                    done = self._apply_producer_batch(pid, pepoch, bseq, delta, attrs, offset, ts, staged,
                                                      pos=pos, size=size, buf=view)
                    if done is not None:
                        completed = [done] if completed is None else completed + [done]
                if whole is not None:
                    set_base_offset(whole, pos, offset)
                    set_partition_leader_epoch(whole, pos, leader_epoch)
                    set_max_timestamp_log_append(whole, pos, size, append_time)
                else:
                    iov.append(_OFFSET_LENGTH_EPOCH.pack(offset, length, leader_epoch))
                    iov.append(view[pos + _PATCHED:pos + size])
                if ts > max_ts:
                    max_ts, max_ts_off = ts, last
                metas.append((size, last, ts))
                records += count
                offset = last + 1
            n = len(view)
            rolled = self._maybe_roll(n, max_ts, offset - 1, now, first)
            self._segments[-1].append(iov if whole is None else [whole], metas, n)
            self._leo = offset
            if staged:
                psm.commit(staged, offset)
            else:
                psm.map_end_offset = offset
            if completed:
                self._complete_txns(completed)
            if leader_epoch >= 0:
                epochs = self.leader_epochs
                latest = epochs.latest_epoch
                if latest is None or leader_epoch > latest:
                    epochs.assign(leader_epoch, first)
            return AppendResult(
                first, offset - 1, max_ts, max_ts_off, append_time, self._log_start, records,
                n, offset - self.recovery_point >= self._flush_messages, rolled,
            )

    def append_as_follower(self, batches: bytes | bytearray | memoryview) -> AppendResult:
        """Append batches that already carry offsets (replication). Offsets must increase and
        start at or above the log end offset; producer state and epochs follow the batches."""
        buf = memoryview(batches).cast("B")
        found = self._validate(buf)
        with self._lock:
            self._check_open()
            if not found:
                return AppendResult(-1, -1, NO_TIMESTAMP, -1, -1, self._log_start, 0, 0)
            now = self._clock()
            expected = self._leo
            first = found[0][2][B_BASE_OFFSET]
            metas = []
            max_ts, max_ts_off, records = NO_TIMESTAMP, first, 0
            for _pos, size, h in found:
                base = h[B_BASE_OFFSET]
                if base < expected:
                    raise OffsetsOutOfOrderError(f"batch offset {base} is below the expected {expected}")
                last = base + h[B_LAST_OFFSET_DELTA]
                if h[B_MAX_TIMESTAMP] > max_ts:
                    max_ts, max_ts_off = h[B_MAX_TIMESTAMP], last
                metas.append((size, last, h[B_MAX_TIMESTAMP]))
                records += h[B_RECORDS_COUNT]
                expected = last + 1
            rolled = self._maybe_roll(len(buf), max_ts, expected - 1, now, max(first, self._leo))
            staged: dict[int, ProducerEntry] = {}
            completed = []
            for pos, size, h in found:
                (base, _l, _e, _m, _c, attrs, delta, _bt, batch_max_ts, pid, pepoch, bseq, _n) = h
                if pid >= 0:
                    done = self._apply_producer_batch(pid, pepoch, bseq, delta, attrs, base, batch_max_ts,
                                                      staged, pos=pos, size=size, buf=buf)
                    if done is not None:
                        completed.append(done)
            self._segments[-1].append([buf], metas, len(buf))
            self._leo = expected
            self.producer_state.commit(staged, expected)
            if completed:
                self._complete_txns(completed)
            for _pos, _size, h in found:
                ple = h[B_LEADER_EPOCH]
                if ple >= 0:
                    latest = self.leader_epochs.latest_epoch
                    if latest is None or ple > latest:
                        self.leader_epochs.assign(ple, h[B_BASE_OFFSET])
            return AppendResult(
                first, expected - 1, max_ts, max_ts_off, -1, self._log_start, records, len(buf),
                needs_flush=expected - self.recovery_point >= self.config.flush_messages,
                rolled=rolled,
            )

    def _maybe_roll(self, size: int, max_ts: int, last_offset: int, now: int | None, roll_base: int) -> bool:
        """Roll as Kafka's shouldRoll: segment.bytes, segment.ms (from the first batch's
        timestamp, else the segment's creation), a full index, or a relative-offset overflow."""
        seg = self._segments[-1]
        cfg = self.config
        seg_size = seg.size
        if seg_size == 0:
            if last_offset - seg.base_offset <= INT32_MAX or seg.base_offset == roll_base:
                return False
        elif (
            seg_size <= cfg.segment_bytes - size
            and seg.index.entries < seg.index.max_entries
            and seg.time_index.entries < seg.time_index.max_entries
            and last_offset - seg.base_offset <= INT32_MAX
        ):
            first_ts = seg.first_batch_timestamp
            if first_ts is None:
                first_ts = self._first_batch_timestamp(seg)
            if first_ts > NO_TIMESTAMP:
                waited = max_ts - first_ts
            else:
                if now is None:
                    now = self._clock()
                waited = now - seg.created_ms
            if waited <= cfg.segment_ms - cfg.segment_jitter_ms:
                return False
        self._roll_locked(self._clock() if now is None else now, max(roll_base, self._leo))
        return True

    def _first_batch_timestamp(self, seg: Segment) -> int:
        for _p, _b, _d, _s, ts in seg.scan_headers(0):
            seg.first_batch_timestamp = ts
            return ts
        return NO_TIMESTAMP

    def roll(self) -> int:
        """Start a new active segment at the log end offset (unless the active one is empty);
        return its base offset."""
        with self._lock:
            self._check_open()
            seg = self._segments[-1]
            if seg.size == 0:
                return seg.base_offset
            self._roll_locked(self._clock(), self._leo)
            return self._leo

    def _roll_locked(self, now: int, base: int) -> None:
        old = self._segments[-1]
        if old.size == 0:
            # An empty active segment is replaced rather than kept empty behind the new one.
            delete_segment_files(old)
            self._segments.pop()
            self._bases.pop()
        else:
            old.on_become_inactive()
        seg = self._new_segment(base, now)
        self._segments.append(seg)
        self._bases.append(base)
        self._dir_dirty = True
        self.producer_state.map_end_offset = self._leo
        self.producer_state.take_snapshot()

    # ------------------------------------------------------------------------------------------
    # reads

    def read(
        self, offset: int, max_bytes: int, *, max_offset: int | None = None,
        min_one_batch: bool = True,
    ) -> ReadResult:
        """Whole batches from the first one containing `offset`, from a single segment, up to
        `max_bytes` (the first batch is returned whole when `min_one_batch`), excluding
        batches at or past `max_offset` (e.g. the high watermark).

        Raises OffsetOutOfRangeError below the log start or above the log end offset.
        """
        with self._lock:
            leo = self._leo
            if offset < self._log_start or offset > leo or self._closed:
                if self._closed:
                    raise LogClosedError(f"log {self._dirname} is closed")
                raise OffsetOutOfRangeError(offset, self._log_start, leo)
            limit = leo if max_offset is None else min(max_offset, leo)
            hw, ls = self._hw, self._log_start
            if offset >= limit or max_bytes < 0:
                return ReadResult(b"", hw, ls, leo)
            segs = self._segments
            i = max(0, bisect.bisect_right(self._bases, offset) - 1)
            n = len(segs)
            while i < n:
                seg = segs[i]
                start = seg.find_position(offset)
                if start is None:
                    i += 1
                    continue
                end = seg.size
                if limit < leo and (i == n - 1 or segs[i + 1].base_offset > limit):
                    cut = seg.find_position(limit)
                    if cut is not None:
                        end = cut
                if end <= start:
                    break
                if end - start > max_bytes:
                    cut, first_size = seg.boundary_at_or_before(start, start + max_bytes)
                    if cut == start:
                        if not min_one_batch:
                            break
                        cut = start + first_size
                    end = cut
                return ReadResult(seg.read(start, end), hw, ls, leo)
            return ReadResult(b"", hw, ls, leo)

    # ------------------------------------------------------------------------------------------
    # transactions

    def append_end_txn_marker(
        self, producer_id: int, producer_epoch: int, coordinator_epoch: int, commit: bool, *,
        leader_epoch: int, timestamp: int | None = None, transaction_version: int = 0,
    ) -> AppendResult:
        """Append the COMMIT or ABORT marker ending `producer_id`'s transaction, as leader.

        Checks as Kafka's leader does for coordinator appends: an epoch older than the
        producer's is INVALID_PRODUCER_EPOCH, a coordinator epoch older than the last marker's
        TRANSACTION_COORDINATOR_FENCED (ProducerStateError, nothing written). With transaction
        version 2 the marker carries the epoch bumped past the transaction's, so a marker at the
        producer's current epoch is refused too while a transaction is open (a late marker of
        the previous transaction must not end the next one, KAFKA-19446); with no transaction
        open it is a retry of the marker already written and is accepted (KAFKA-19999). Ends the
        transaction in the producer state and, for an abort of a non-empty transaction, adds
        an entry to the aborted-transaction index.
        """
        with self._lock:
            self._check_open()
            entry = self.producer_state.producers.get(producer_id)
            if entry is not None:
                if transaction_version >= 2 and producer_epoch == entry.epoch \
                        and entry.current_txn_first_offset is not None:
                    raise ProducerStateError(ProducerCheck(
                        ErrorCode.INVALID_PRODUCER_EPOCH,
                        message=f"marker epoch {producer_epoch} of producer {producer_id} is not above the "
                                f"epoch of its open transaction"))
                if producer_epoch < entry.epoch:
                    raise ProducerStateError(ProducerCheck(
                        ErrorCode.INVALID_PRODUCER_EPOCH,
                        message=f"marker epoch {producer_epoch} of producer {producer_id} is older "
                                f"than {entry.epoch}"))
                if coordinator_epoch < entry.coordinator_epoch:
                    raise ProducerStateError(ProducerCheck(
                        ErrorCode.TRANSACTION_COORDINATOR_FENCED,
                        message=f"coordinator epoch {coordinator_epoch} of the marker for producer "
                                f"{producer_id} is older than {entry.coordinator_epoch}"))
            batch = build_end_txn_batch(
                ControlType.COMMIT if commit else ControlType.ABORT, producer_id=producer_id,
                producer_epoch=producer_epoch, coordinator_epoch=coordinator_epoch,
                timestamp=self._clock() if timestamp is None else timestamp,
            )
            return self.append(batch, leader_epoch=leader_epoch, validate_producers=False)

    def _complete_txns(self, completed: list[tuple[int, int, int, bool]]) -> None:
        """Markers just written: index the aborted transactions (in the segment holding the
        marker, as Kafka does) and hold the LSO back until the markers are replicated."""
        seg = self._segments[-1]
        producers = self.producer_state.producers
        for pid, first, last, aborted in completed:
            if aborted:
                others = [e.current_txn_first_offset for p, e in producers.items()
                          if p != pid and e.current_txn_first_offset is not None]
                lso = min(others) if others else last + 1
                seg.txn_index.append(AbortedTxn(pid, first, last, lso))
            if last >= self._hw:
                self._unreplicated_txns.append((first, last))

    def first_unstable_offset(self) -> int | None:
        """First offset of the oldest transaction that is open, or ended by a marker not yet
        below the high watermark; None when there is none."""
        first = self.producer_state.first_unstable_offset()
        if self._unreplicated_txns:
            hw = self._hw
            pending = [f for f, last in self._unreplicated_txns if last >= hw]
            if len(pending) != len(self._unreplicated_txns):
                self._unreplicated_txns = [t for t in self._unreplicated_txns if t[1] >= hw]
            if pending:
                p = min(pending)
                first = p if first is None else min(first, p)
        return first

    @property
    def last_stable_offset(self) -> int:
        """The high watermark, held back to the first unstable offset (read_committed limit)."""
        unstable = self.first_unstable_offset()
        hw = self._hw
        return hw if unstable is None else max(self._log_start, min(hw, unstable))

    def collect_aborted_transactions(self, start: int, upper: int) -> list[AbortedTxn]:
        """The aborted transactions overlapping [start, upper): from the segment holding
        `start` on, until an entry's last stable offset reaches `upper` (Kafka's
        collectAbortedTransactions)."""
        with self._lock:
            if upper <= start:
                return []
            out: list[AbortedTxn] = []
            i = max(0, bisect.bisect_right(self._bases, start) - 1)
            for seg in self._segments[i:]:
                found, complete = seg.txn_index.collect(start, upper)
                out.extend(found)
                if complete:
                    break
            return out

    def _ongoing_txns_at(self, offset: int) -> tuple[dict[int, int], int]:
        """Open transactions (producer id -> first offset) just before `offset`, from the
        latest usable producer snapshot at or below it; returns them and the offset to replay
        the log from."""
        psm = self.producer_state
        for snap in reversed(psm.snapshot_offsets()):
            if snap > offset:
                continue
            try:
                entries = read_snapshot(psm._snapshot_path(snap))
            except (CorruptSnapshotError, OSError):
                continue
            return ({e.producer_id: e.current_txn_first_offset for e in entries
                     if e.current_txn_first_offset is not None}, snap)
        return {}, self._segments[0].base_offset

    def _rebuild_txn_indexes(self, segs: list[Segment]) -> None:
        """Recovery: rebuild the aborted-transaction indexes of the segments that were
        rescanned, replaying batch headers (and markers) from a producer snapshot."""
        wanted = {s.base_offset: [] for s in segs}  # type: dict[int, list[AbortedTxn]]
        ongoing, start = self._ongoing_txns_at(min(wanted))
        i = max(0, bisect.bisect_right(self._bases, start) - 1)
        for seg in self._segments[i:]:
            collect = wanted.get(seg.base_offset)
            pos = seg.find_position(start) if seg.base_offset <= start else 0
            if pos is None:
                continue
            for p, h in seg.iter_headers(pos):
                pid = h.producer_id
                if pid < 0 or h.base_offset + h.last_offset_delta < start:
                    continue
                if h.attributes & CONTROL_FLAG:
                    try:
                        data = self.cache.pread(seg.log_ref, h.batch_length + LOG_OVERHEAD, p)
                        recs = decode_records(data, 0, verify_crc=False)
                        marker = parse_end_txn_marker(recs[0]) if recs else None
                    except CorruptRecordError:
                        marker = None
                    if marker is None:
                        continue
                    first = ongoing.pop(pid, None)
                    if first is not None and not marker.is_commit and collect is not None:
                        lso = min(ongoing.values()) if ongoing else h.base_offset + 1
                        collect.append(AbortedTxn(pid, first, h.base_offset, lso))
                elif h.attributes & TRANSACTIONAL_FLAG:
                    ongoing.setdefault(pid, h.base_offset)
        for seg in segs:
            seg.txn_index.reset(wanted[seg.base_offset])

    # ------------------------------------------------------------------------------------------
    # timestamps

    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int] | None:
        """(timestamp, offset) of the first record whose timestamp is >= `timestamp`
        (ListOffsets by time), or None when every record is older."""
        with self._lock:
            ls = self._log_start
            for seg in self._segments:
                if seg.size == 0 or (seg.next_offset is not None and seg.next_offset <= ls):
                    continue
                if seg.largest_timestamp() >= timestamp:
                    found = seg.find_offset_by_timestamp(timestamp, ls)
                    if found is not None:
                        return found
            return None

    def latest_timestamp(self) -> tuple[int, int] | None:
        """(max timestamp, offset of the first record carrying it) over the log (ListOffsets
        MAX_TIMESTAMP), None when the log holds no timestamped record."""
        with self._lock:
            best: tuple[int, int, Segment] | None = None
            for seg in self._segments:
                if seg.size == 0:
                    continue
                ts, off = seg.max_timestamp_and_offset()
                if ts > NO_TIMESTAMP and (best is None or ts > best[0]):
                    best = (ts, off, seg)
            if best is None:
                return None
            return best[2].record_with_timestamp(best[0], best[1])

    # ------------------------------------------------------------------------------------------
    # truncation, DeleteRecords, retention

    def truncate_to(self, offset: int) -> bool:
        """Remove every batch at or after `offset` (follower truncation). A batch containing
        `offset` goes whole. Returns whether anything was removed."""
        with self._lock:
            self._check_open()
            if offset >= self._leo:
                return False
            now = self._clock()
            if offset < self._log_start:
                self._truncate_fully_locked(offset, now)
                return True
            # The first segment starts at or below the log start, so it is never doomed here.
            doomed = [s for s in self._segments if s.base_offset > offset]
            if doomed:
                self._segments = self._segments[: len(self._segments) - len(doomed)]
                self._bases = self._bases[: len(self._segments)]
                self._schedule_delete(doomed, now)
            seg = self._segments[-1]
            seg.truncate_to(offset)
            seg.make_active(now)
            self._leo = seg.read_next_offset()
            if self._leo < self._log_start:
                # The batch holding `offset` also held the log start: nothing visible is left.
                self._truncate_fully_locked(self._log_start, now)
                return True
            self._after_truncation()
            return True

    def _after_truncation(self) -> None:
        self._truncations += 1
        self._hw = min(self._hw, self._leo)
        self._unreplicated_txns = [t for t in self._unreplicated_txns if t[1] < self._leo]
        self.recovery_point = min(self.recovery_point, self._leo)
        self.leader_epochs.truncate_from_end(self._leo)
        psm = self.producer_state
        psm.delete_snapshots_after(self._leo)
        start = psm.load(self._log_start, self._leo, self._clock())
        if start < self._leo:
            self._rebuild_producer_state(max(start, self._log_start))
        psm.map_end_offset = self._leo

    def truncate_fully_and_start_at(self, offset: int) -> None:
        """Drop everything; the log restarts empty at `offset` (a follower far behind)."""
        with self._lock:
            self._check_open()
            self._truncate_fully_locked(offset, self._clock())

    def _truncate_fully_locked(self, offset: int, now: int) -> None:
        old = self._segments
        self._segments = []
        self._schedule_delete(old, now)
        seg = self._new_segment(offset, now)
        self._segments = [seg]
        self._bases = [offset]
        self._leo = self._log_start = self._hw = offset
        self.recovery_point = offset
        self._unreplicated_txns = []
        self._truncations += 1
        self._dir_dirty = True
        self.leader_epochs.clear()
        self.producer_state.truncate_fully(offset)

    def delete_records_before(self, offset: int) -> int:
        """DeleteRecords: advance the log start offset to `offset` (at most the high
        watermark) and delete segments wholly below it. Returns the new log start offset."""
        with self._lock:
            self._check_open()
            if offset > self._hw:
                raise OffsetOutOfRangeError(offset, self._log_start, self._hw)
            if offset > self._log_start:
                self._log_start = offset
                self.leader_epochs.truncate_from_start(offset)
            self._delete_segments(retention.log_start_breached(self._segments, self._leo, self._hw, self._log_start))
            return self._log_start

    def apply_retention(self, now_ms: int | None = None) -> int:
        """Delete segments past retention.ms / retention.bytes (for `delete` policies) and
        wholly below the log start offset; purge files whose delete delay has passed.
        Returns the number of segments deleted."""
        with self._lock:
            if self._closed:
                return 0
            now = self._clock() if now_ms is None else now_ms
            cfg = self.config
            deleted = 0
            if cfg.delete:
                deleted += self._delete_segments(retention.size_breached(
                    self._segments, self._leo, self._hw, cfg.retention_bytes))
                deleted += self._delete_segments(retention.time_breached(
                    self._segments, self._leo, self._hw, cfg.retention_ms, now))
            deleted += self._delete_segments(retention.log_start_breached(
                self._segments, self._leo, self._hw, self._log_start))
            self.purge_deleted_files(now)
            return deleted

    def _delete_segments(self, doomed: list[Segment]) -> int:
        if not doomed:
            return 0
        now = self._clock()
        if len(doomed) == len(self._segments):
            # Kafka rolls first so that a (new, empty) active segment always remains.
            self._roll_locked(now, self._leo)
        keep = self._segments[len(doomed):]
        self._segments = keep
        self._bases = [s.base_offset for s in keep]
        self._schedule_delete(doomed, now)
        new_start = max(self._log_start, keep[0].base_offset)
        if new_start != self._log_start:
            self._log_start = new_start
            self._hw = max(self._hw, new_start)
            self.leader_epochs.truncate_from_start(new_start)
        self.producer_state.delete_snapshots_before(keep[0].base_offset)
        return len(doomed)

    def _schedule_delete(self, segs: list[Segment], now: int) -> None:
        paths: list[str] = []
        for seg in segs:
            paths.extend(seg.rename_for_deletion())
        if paths:
            self._pending_deletes.append((now + self.config.file_delete_delay_ms, paths))

    def purge_deleted_files(self, now_ms: int | None = None) -> None:
        """Unlink renamed-away files whose file.delete.delay.ms has passed."""
        now = self._clock() if now_ms is None else now_ms
        keep = []
        for due, paths in self._pending_deletes:
            if due <= now:
                for p in paths:
                    try:
                        os.unlink(p)
                    except FileNotFoundError:
                        pass
            else:
                keep.append((due, paths))
        self._pending_deletes = keep

    def remove_expired_producers(self, now_ms: int | None = None) -> int:
        """Forget producers idle longer than producer.id.expiration.ms (Kafka checks every
        producer.id.expiration.check.interval.ms)."""
        with self._lock:
            return self.producer_state.remove_expired(self._clock() if now_ms is None else now_ms)

    # ------------------------------------------------------------------------------------------
    # compaction

    def swap_cleaned_segment(self, old: list[Segment], base: int, generation: int) -> bool:
        """Replace consecutive inactive segments `old` by the cleaned segment whose files
        `<base>.{log,index,timeindex}.cleaned` are written and fsynced. Called by the cleaner
        thread; the lock is held only for the renames. False if the log changed meanwhile.

        Crash safety: `.cleaned` files are garbage; once `<base>.log.swap` exists the cleaned
        segment wins and recovery finishes the swap (see recovery.complete_swap).
        """
        with self._lock:
            if self._closed or generation != self._truncations:
                return False
            segs = self._segments
            try:
                i = next(k for k, s in enumerate(segs) if s is old[0])
            except StopIteration:
                return False
            if i + len(old) >= len(segs) or any(segs[i + k] is not s for k, s in enumerate(old)):
                return False
            stem = os.path.join(self._dirname, file_prefix(base))
            # The aborted-transaction index goes first: a crash leaves only the log's .swap
            # deciding, and recovery rebuilds every index of a swapped segment.
            suffixes = [INDEX_SUFFIX, TIME_INDEX_SUFFIX, LOG_SUFFIX]
            if os.path.exists(stem + TXN_INDEX_SUFFIX + CLEANED_SUFFIX):
                suffixes.insert(0, TXN_INDEX_SUFFIX)
            for suffix in suffixes:
                os.replace(stem + suffix + CLEANED_SUFFIX, stem + suffix + SWAP_SUFFIX)
            self._schedule_delete(old, self._clock())
            for suffix in suffixes:
                os.replace(stem + suffix + SWAP_SUFFIX, stem + suffix)
            cfg = self.config
            seg = Segment.load(self._dirname, base, self.cache, index_interval=cfg.index_interval_bytes,
                               index_max_bytes=cfg.segment_index_bytes, now_ms=self._clock())
            self._segments = segs[:i] + [seg] + segs[i + len(old):]
            self._bases = [s.base_offset for s in self._segments]
            self._dir_dirty = True
            return True

    # ------------------------------------------------------------------------------------------
    # durability

    def flush_due(self, now_ms: int) -> bool:
        """Whether flush.ms has passed since the last flush with data still unflushed."""
        return self._leo > self.recovery_point and now_ms - self._last_flush_ms >= self.config.flush_ms

    @property
    def unflushed_messages(self) -> int:
        return self._leo - self.recovery_point

    def flush(self, up_to: int | None = None) -> int:
        """fsync the segments holding offsets below `up_to` (default: the log end), their
        indexes, the leader-epoch checkpoint and the directory; then advance the recovery
        point. Safe to call from any thread while appends continue. Returns the recovery point.
        """
        with self._lock:
            if self._closed:
                return self.recovery_point
            target = self._leo if up_to is None else min(up_to, self._leo)
            generation = self._truncations
            dir_dirty, self._dir_dirty = self._dir_dirty, False
            rp = self.recovery_point
            paths: list[str] = []
            segs = self._segments
            active = segs[-1]
            active.index.write_pending()
            active.time_index.write_pending()
            for k, seg in enumerate(segs):
                upper = segs[k + 1].base_offset if k + 1 < len(segs) else self._leo + 1
                if upper > rp and seg.base_offset < target:
                    paths += [seg.log_ref.path, seg.index.ref.path, seg.time_index.ref.path]
                    if seg.txn_index.exists():
                        paths.append(seg.txn_index.path)
            epochs_dirty = self.leader_epochs.dirty
        for path in paths:
            try:
                fsync_path(path)
            except FileNotFoundError:
                pass  # deleted or swapped meanwhile; its data no longer needs to be durable
        if epochs_dirty:
            self.leader_epochs.write(sync=True)
        if dir_dirty:
            fsync_dir(self._dirname)
        with self._lock:
            if generation == self._truncations and target > self.recovery_point:
                self.recovery_point = target
            self._last_flush_ms = self._clock()
            return self.recovery_point

    def close(self) -> None:
        """Trim indexes, fsync, write the producer snapshot and leader-epoch checkpoint, and
        release file handles. The log manager then records a clean shutdown."""
        with self._lock:
            if self._closed:
                return
            active = self._segments[-1]
            active.on_become_inactive()
            self.flush()
            self.producer_state.map_end_offset = self._leo
            self.producer_state.take_snapshot(sync=True)
            self.leader_epochs.write(sync=True)
            self.purge_deleted_files(1 << 62)
            for seg in self._segments:
                seg.close_files()
            fsync_dir(self._dirname)
            self._closed = True

    def close_without_flush(self) -> None:
        """Release file handles only (the broker is dying, or the log is being deleted)."""
        with self._lock:
            for seg in self._segments:
                seg.close_files()
            self._closed = True

    def delete(self) -> None:
        """Close and remove the whole partition directory."""
        with self._lock:
            self.close_without_flush()
            self._pending_deletes.clear()
            shutil.rmtree(self._dirname, ignore_errors=True)

    def __repr__(self) -> str:
        return f"Log({self._dirname}, start={self._log_start}, end={self._leo}, segments={len(self._segments)})"

