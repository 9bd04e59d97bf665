"""The replicated log of the metadata quorum: a storage.Log in `__cluster_metadata-0/` plus
the snapshot files beside its segments.

Leader appends go in as one batch per call, stamped with the leader epoch; committed reads
come back as CommittedBatch objects; a log that a crash left behind its latest snapshot
restarts at the snapshot.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Iterator

from protocol.records import (
    Record, build_batch, control_record, decode_batch, iter_batch_positions,
    parse_control_key,
)
from raft import snapshot as snap
from raft.errors import InvalidSnapshotIdError
from raft.types import CommittedBatch, OffsetAndEpoch
from storage import Log, LogConfig

logger = logging.getLogger(__name__)

METADATA_TOPIC = "__cluster_metadata"
METADATA_LOG_DIRNAME = f"{METADATA_TOPIC}-0"

DEFAULT_SEGMENT_BYTES = 1024 * 1024 * 1024  # metadata.log.segment.bytes
# One append is one batch and a controller operation is one append, so the batch limit is a
# bound on the size of a single atomic metadata change.
DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024
_READ_BYTES = 1024 * 1024


class RaftLog:
    """The metadata log of one replica."""

    def __init__(self, directory: Path, log: Log, *, fsync: bool) -> None:
        self.dir = directory
        self.log = log
        self.fsync = fsync
        self._snapshots = snap.list_snapshots(directory)

    @classmethod
    def open(cls, directory: Path | str, *, clock: Callable[[], int] | None = None, fsync: bool = True,
             segment_bytes: int = DEFAULT_SEGMENT_BYTES,
             max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES) -> RaftLog:
        """Open (creating) the log in `directory`, recovering a torn tail, dropping partial
        snapshots, and restarting the log at the latest snapshot if it ends before it."""
        directory = Path(directory)
        os.makedirs(directory, exist_ok=True)
        snap.remove_partial_snapshots(directory)
        config = LogConfig(segment_bytes=segment_bytes, max_message_bytes=max_batch_bytes,
                           retention_ms=-1, retention_bytes=-1)
        # The metadata log is small: always scan it fully rather than trust a shutdown marker.
        log = Log.open(directory, config, clock=clock, recovery_point=0, clean_shutdown=False)
        self = cls(directory, log, fsync=fsync)
        latest = self.latest_snapshot_id
        if latest is not None and log.log_end_offset < latest.offset:
            logger.warning("metadata log ends at %d, before snapshot %s: restarting it at the snapshot",
                           log.log_end_offset, latest)
            log.truncate_fully_and_start_at(latest.offset)
        return self

    # -- positions -----------------------------------------------------------------------

    @property
    def start_offset(self) -> int:
        return self.log.log_start_offset

    @property
    def end_offset(self) -> int:
        return self.log.log_end_offset

    @property
    def last_epoch(self) -> int:
        """The epoch of the last record (of the log, else of the latest snapshot; 0 if none)."""
        epoch = self.log.leader_epochs.latest_epoch
        if epoch is not None:
            return epoch
        latest = self.latest_snapshot_id
        return latest.epoch if latest is not None else 0

    def end_offset_and_epoch(self) -> OffsetAndEpoch:
        return OffsetAndEpoch(self.end_offset, self.last_epoch)

    def epoch_of(self, offset: int) -> int | None:
        """The epoch of the record at `offset`."""
        if offset < self.start_offset or offset >= self.end_offset:
            latest = self.latest_snapshot_id
            if latest is not None and offset == latest.offset - 1:
                return latest.epoch
            return None
        return self.log.leader_epochs.epoch_for_offset(offset)

    @property
    def high_watermark(self) -> int:
        return self.log.high_watermark

    @high_watermark.setter
    def high_watermark(self, value: int) -> None:
        self.log.high_watermark = value

    # -- appends -------------------------------------------------------------------------

    def append_as_leader(self, values: list[bytes], epoch: int, now_ms: int) -> tuple[int, int]:
        """Append record values as one batch; returns (first, last) offset."""
        records = [Record(i, 0, None, v) for i, v in enumerate(values)]
        batch = build_batch(records, partition_leader_epoch=epoch, base_timestamp=now_ms)
        res = self.log.append(batch, leader_epoch=epoch, validate_producers=False)
        return res.first_offset, res.last_offset

    def append_control(self, control_type: int, value: bytes, epoch: int, now_ms: int) -> tuple[int, int]:
        batch = build_batch([control_record(control_type, value)], is_control=True,
                            partition_leader_epoch=epoch, base_timestamp=now_ms)
        res = self.log.append(batch, leader_epoch=epoch, validate_producers=False)
        return res.first_offset, res.last_offset

    def flush(self, up_to: int | None = None) -> int:
        if not self.fsync:
            return self.end_offset
        return self.log.flush(up_to)

    def truncate_to(self, offset: int) -> bool:
        return self.log.truncate_to(offset)

    # -- reads ---------------------------------------------------------------------------

    def read_batches(self, start: int, end: int) -> Iterator[CommittedBatch]:
        """The batches holding offsets in [start, end), each whole (the first may begin
        before `start` if `start` is inside it)."""
        offset = start
        while offset < end:
            res = self.log.read(offset, _READ_BYTES, max_offset=end)
            buf = bytes(res.records)
            if not buf:
                return
            for pos, _size in iter_batch_positions(buf):
                header, recs = decode_batch(buf, pos)
                last = header.base_offset + header.last_offset_delta
                if last < offset:
                    continue
                if header.is_control:
                    controls = tuple((parse_control_key(r.key)[1], r.value) for r in recs)
                    values: list[bytes] = []
                else:
                    controls = ()
                    values = [r.value or b"" for r in recs]
                yield CommittedBatch(header.base_offset, last, header.partition_leader_epoch, values,
                                     header.max_timestamp, header.size, controls)
                offset = last + 1
                if offset >= end:
                    return

    # -- snapshots -----------------------------------------------------------------------

    @property
    def latest_snapshot_id(self) -> OffsetAndEpoch | None:
        return self._snapshots[-1] if self._snapshots else None

    @property
    def snapshot_ids(self) -> list[OffsetAndEpoch]:
        return list(self._snapshots)

    def snapshot_writer(self, snapshot_id: OffsetAndEpoch, last_contained_log_time_ms: int,
                        now_ms: int) -> snap.SnapshotWriter:
        latest = self.latest_snapshot_id
        if latest is not None and snapshot_id.offset <= latest.offset:
            raise InvalidSnapshotIdError(f"snapshot {snapshot_id} is not after the latest snapshot {latest}")
        if snapshot_id.offset > self.end_offset:
            raise InvalidSnapshotIdError(f"snapshot {snapshot_id} is past the log end {self.end_offset}")
        epoch = self.epoch_of(snapshot_id.offset - 1) if snapshot_id.offset > 0 else 0
        if epoch is not None and epoch != snapshot_id.epoch:
            raise InvalidSnapshotIdError(
                f"snapshot {snapshot_id}: the record before offset {snapshot_id.offset} has epoch {epoch}")
        return snap.SnapshotWriter(self.dir, snapshot_id, last_contained_log_time_ms, now_ms=now_ms,
                                   fsync=self.fsync, on_freeze=self.on_snapshot_frozen)

    def on_snapshot_frozen(self, snapshot_id: OffsetAndEpoch, keep: int = 3) -> None:
        """Record a new snapshot and delete all but the `keep` latest."""
        self._snapshots = sorted(set(self._snapshots) | {snapshot_id})
        while len(self._snapshots) > keep:
            snap.delete_snapshot(self.dir, self._snapshots.pop(0))

    def read_snapshot(self, snapshot_id: OffsetAndEpoch) -> snap.SnapshotReader:
        return snap.SnapshotReader.open(self.dir, snapshot_id)

    def close(self) -> None:
        if self.fsync:
            self.log.close()
        else:
            self.log.close_without_flush()
