"""Snapshot files of the metadata log, in Kafka's layout.

A snapshot of the state up to (not including) offset N, whose last record has epoch E, is
`<N as 20 digits>-<E as 10 digits>.checkpoint` in the log directory: record batches whose
first is a control batch holding a SnapshotHeaderRecord and whose last holds a
SnapshotFooterRecord. It is written to `.checkpoint.part` and renamed once complete.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from protocol.compiler import codec_for
from protocol.errors import CorruptRecordError
from protocol.messages import data_spec
from protocol.records import (
    LOG_OVERHEAD, ControlType, Record, build_batch, control_record, decode_batch, parse_control_key,
)
from raft.errors import CorruptSnapshotError
from raft.types import OffsetAndEpoch

SUFFIX = ".checkpoint"
PARTIAL_SUFFIX = ".checkpoint.part"
DELETED_SUFFIX = ".checkpoint.deleted"
MAX_BATCH_BYTES = 8 * 1024  # Kafka's KRaft batch size

_NAME = re.compile(r"^(\d{20})-(\d{10})(\.checkpoint(?:\.part|\.deleted)?)$")

_HEADER = codec_for(data_spec("SnapshotHeaderRecord"), 0)
_FOOTER = codec_for(data_spec("SnapshotFooterRecord"), 0)


def snapshot_filename(snapshot_id: OffsetAndEpoch) -> str:
    return f"{snapshot_id.offset:020d}-{snapshot_id.epoch:010d}{SUFFIX}"


def parse_snapshot_filename(name: str) -> tuple[OffsetAndEpoch, str] | None:
    """(snapshot id, suffix) of a snapshot file name, None for other files."""
    m = _NAME.match(name)
    if m is None:
        return None
    return OffsetAndEpoch(int(m.group(1)), int(m.group(2))), m.group(3)


def list_snapshots(directory: Path | str) -> list[OffsetAndEpoch]:
    """Ids of the complete snapshots in `directory`, oldest first."""
    found = []
    for name in os.listdir(directory):
        parsed = parse_snapshot_filename(name)
        if parsed is not None and parsed[1] == SUFFIX:
            found.append(parsed[0])
    return sorted(found)


def remove_partial_snapshots(directory: Path | str) -> None:
    """Delete snapshots that were being written or deleted when the process stopped."""
    for name in os.listdir(directory):
        parsed = parse_snapshot_filename(name)
        if parsed is not None and parsed[1] != SUFFIX:
            os.unlink(os.path.join(directory, name))


def delete_snapshot(directory: Path | str, snapshot_id: OffsetAndEpoch) -> None:
    path = Path(directory) / snapshot_filename(snapshot_id)
    doomed = path.with_name(path.name[: -len(SUFFIX)] + DELETED_SUFFIX)
    try:
        os.replace(path, doomed)
    except FileNotFoundError:
        return
    os.unlink(doomed)


class SnapshotWriter:
    """Writes one snapshot: the header on creation, record batches on `append`, the footer
    and the final name on `freeze`."""

    def __init__(self, directory: Path | str, snapshot_id: OffsetAndEpoch, last_contained_log_time_ms: int,
                 *, now_ms: int, fsync: bool = True, max_batch_bytes: int = MAX_BATCH_BYTES,
                 on_freeze: Callable[[OffsetAndEpoch], None] | None = None) -> None:
        self._on_freeze = on_freeze
        self.directory = Path(directory)
        self.snapshot_id = snapshot_id
        self.last_contained_log_time_ms = last_contained_log_time_ms
        self._now = now_ms
        self._fsync = fsync
        self._max_batch = max_batch_bytes
        self.path = self.directory / snapshot_filename(snapshot_id)
        self._partial = self.path.with_name(self.path.name + ".part")
        self._file = open(self._partial, "wb")
        self._next_offset = 0
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._frozen = False
        header = _HEADER.cls(version=0, last_contained_log_timestamp=last_contained_log_time_ms)
        self._write_control(ControlType.SNAPSHOT_HEADER, _HEADER.encode(header))

    def _write_batch(self, records: list[Record], *, control: bool) -> None:
        batch = build_batch(records, base_offset=self._next_offset, is_control=control,
                            partition_leader_epoch=self.snapshot_id.epoch, base_timestamp=self._now)
        self._file.write(batch)
        self._next_offset += len(records)

    def _write_control(self, control_type: int, value: bytes) -> None:
        self._write_batch([control_record(control_type, value)], control=True)

    def _flush_pending(self) -> None:
        if self._pending:
            self._write_batch([Record(i, 0, None, v) for i, v in enumerate(self._pending)], control=False)
            self._pending = []
            self._pending_bytes = 0

    def append(self, records: list[bytes]) -> None:
        """Add record values (metadata record frames), packed into batches of about 8 KiB."""
        if self._frozen:
            raise ValueError("snapshot is already frozen")
        for value in records:
            if self._pending and self._pending_bytes + len(value) > self._max_batch:
                self._flush_pending()
            self._pending.append(value)
            self._pending_bytes += len(value) + 8

    def freeze(self) -> Path:
        """Write the footer, make the file durable and give it its final name."""
        self._flush_pending()
        self._write_control(ControlType.SNAPSHOT_FOOTER, _FOOTER.encode(_FOOTER.cls(version=0)))
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._partial, self.path)
        if self._fsync:
            fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._frozen = True
        if self._on_freeze is not None:
            self._on_freeze(self.snapshot_id)
        return self.path

    def abort(self) -> None:
        if not self._frozen:
            self._file.close()
            try:
                os.unlink(self._partial)
            except FileNotFoundError:
                pass
            self._frozen = True


@dataclass(slots=True)
class SnapshotBatch:
    base_offset: int
    records: list[bytes]


class SnapshotReader:
    """A complete snapshot file, validated on open: CRCs, header first, footer last."""

    def __init__(self, path: Path | str, snapshot_id: OffsetAndEpoch, last_contained_log_time_ms: int,
                 batches: list[SnapshotBatch]) -> None:
        self.path = Path(path)
        self._id = snapshot_id
        self._time = last_contained_log_time_ms
        self._batches = batches

    @property
    def snapshot_id(self) -> OffsetAndEpoch:
        return self._id

    @property
    def last_contained_log_time_ms(self) -> int:
        return self._time

    def batches(self) -> Iterator[SnapshotBatch]:
        return iter(self._batches)

    def records(self) -> Iterator[bytes]:
        for batch in self._batches:
            yield from batch.records

    @classmethod
    def open(cls, directory: Path | str, snapshot_id: OffsetAndEpoch) -> SnapshotReader:
        return cls.open_file(Path(directory) / snapshot_filename(snapshot_id), snapshot_id)

    @classmethod
    def open_file(cls, path: Path | str, snapshot_id: OffsetAndEpoch) -> SnapshotReader:
        """A file in the snapshot layout under another name (the bootstrap checkpoint)."""
        path = Path(path)
        data = path.read_bytes()
        batches: list[SnapshotBatch] = []
        header_time: int | None = None
        footer = False
        pos = 0
        try:
            while pos < len(data):
                if footer:
                    raise CorruptSnapshotError(f"{path}: data after the snapshot footer")
                if len(data) - pos < LOG_OVERHEAD:
                    raise CorruptRecordError("truncated batch")
                header, recs = decode_batch(data, pos)
                pos += header.size
                if header.is_control:
                    for rec in recs:
                        _version, ctype = parse_control_key(rec.key)
                        if ctype == ControlType.SNAPSHOT_HEADER:
                            if header_time is not None or batches:
                                raise CorruptSnapshotError(f"{path}: misplaced snapshot header")
                            header_time = _HEADER.decode(rec.value or b"").last_contained_log_timestamp
                        elif ctype == ControlType.SNAPSHOT_FOOTER:
                            footer = True
                        # KRaft version and voters records may follow the header; the voter set
                        # is static for now, so they are not needed here.
                    continue
                if header_time is None:
                    raise CorruptSnapshotError(f"{path}: records before the snapshot header")
                batches.append(SnapshotBatch(header.base_offset, [r.value or b"" for r in recs]))
        except CorruptRecordError as exc:
            raise CorruptSnapshotError(f"{path}: {exc}") from None
        if header_time is None or not footer:
            raise CorruptSnapshotError(f"{path}: missing snapshot {'header' if header_time is None else 'footer'}")
        return cls(path, snapshot_id, header_time, batches)


def write_snapshot(directory: Path | str, snapshot_id: OffsetAndEpoch, last_contained_log_time_ms: int,
                   records: list[bytes], *, now_ms: int, fsync: bool = True) -> Path:
    """Write a whole snapshot at once."""
    writer = SnapshotWriter(directory, snapshot_id, last_contained_log_time_ms, now_ms=now_ms, fsync=fsync)
    try:
        writer.append(records)
        return writer.freeze()
    except BaseException:
        writer.abort()
        raise


