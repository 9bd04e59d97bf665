"""Kafka's text checkpoint files and the clean-shutdown marker.

Offset checkpoints (`recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`,
`cleaner-offset-checkpoint`) are: a version line `0`, a count line, then `topic partition offset`
lines. `leader-epoch-checkpoint` is the same with `epoch startOffset` lines. Files are replaced
atomically (temp file, fsync, rename) as Kafka does.
"""

from __future__ import annotations

import json
import os

from storage.errors import StorageError
from storage.files import atomic_write, fsync_dir

RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint"
LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint"
CLEANER_OFFSET_CHECKPOINT = "cleaner-offset-checkpoint"
LEADER_EPOCH_CHECKPOINT = "leader-epoch-checkpoint"
CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"
CHECKPOINT_VERSION = 0


class CorruptCheckpointError(StorageError):
    """A checkpoint file that does not parse."""


def _format(lines: list[str]) -> bytes:
    return (f"{CHECKPOINT_VERSION}\n{len(lines)}\n" + "".join(line + "\n" for line in lines)).encode()


def _parse(path: str, fields: int) -> list[list[str]]:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return []
    lines = text.splitlines()
    try:
        if int(lines[0]) != CHECKPOINT_VERSION:
            raise CorruptCheckpointError(f"{path}: unsupported version {lines[0]!r}")
        count = int(lines[1])
    except (IndexError, ValueError):
        raise CorruptCheckpointError(f"{path}: malformed header") from None
    entries = [line.split() for line in lines[2:] if line.strip()]
    if len(entries) != count or any(len(e) != fields for e in entries):
        raise CorruptCheckpointError(f"{path}: expected {count} entries of {fields} fields")
    return entries


def write_offsets(path: str, offsets: dict[tuple[str, int], int], *, sync: bool = True) -> None:
    """Write an offset checkpoint: `topic partition offset` per line."""
    lines = [f"{t} {p} {o}" for (t, p), o in sorted(offsets.items())]
    atomic_write(path, _format(lines), sync=sync)


def read_offsets(path: str) -> dict[tuple[str, int], int]:
    """Read an offset checkpoint; a missing file is empty."""
    out: dict[tuple[str, int], int] = {}
    for topic, partition, offset in _parse(path, 3):
        try:
            out[(topic, int(partition))] = int(offset)
        except ValueError:
            raise CorruptCheckpointError(f"{path}: bad entry {topic} {partition} {offset}") from None
    return out


def write_epochs(path: str, entries: list[tuple[int, int]], *, sync: bool = True) -> None:
    """Write a leader-epoch checkpoint: `epoch startOffset` per line."""
    atomic_write(path, _format([f"{e} {o}" for e, o in entries]), sync=sync)


def read_epochs(path: str) -> list[tuple[int, int]]:
    try:
        return [(int(e), int(o)) for e, o in _parse(path, 2)]
    except ValueError:
        raise CorruptCheckpointError(f"{path}: bad entry") from None


def write_clean_shutdown(log_dir: str, broker_epoch: int = -1) -> None:
    """Write `.kafka_cleanshutdown` as Kafka 3.x/4.x does: a small JSON object."""
    body = json.dumps({"version": "0", "broker_epoch": str(broker_epoch)}, separators=(",", ":"))
    path = os.path.join(log_dir, CLEAN_SHUTDOWN_FILE)
    atomic_write(path, body.encode(), sync=True)


def has_clean_shutdown(log_dir: str) -> bool:
    return os.path.exists(os.path.join(log_dir, CLEAN_SHUTDOWN_FILE))


def read_clean_shutdown_epoch(log_dir: str) -> int | None:
    """The broker epoch recorded at the last clean shutdown; None if absent or unreadable.
    Older Kafka versions wrote an empty marker, which reads as epoch -1."""
    path = os.path.join(log_dir, CLEAN_SHUTDOWN_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
    except FileNotFoundError:
        return None
    if not text:
        return -1
    try:
        return int(json.loads(text).get("broker_epoch", "-1"))
    except (ValueError, AttributeError):
        return None


def remove_clean_shutdown(log_dir: str) -> None:
    """Delete the marker once logs are loaded, so a later crash is detected (as Kafka does)."""
    try:
        os.unlink(os.path.join(log_dir, CLEAN_SHUTDOWN_FILE))
    except FileNotFoundError:
        return
    fsync_dir(log_dir)
