"""The bootstrap records of a new cluster: `bootstrap.checkpoint` in the metadata log directory,
written by `pybroker format --feature NAME=LEVEL` (as `kafka-storage format --feature` writes
it), read by the controller when it finds the metadata log without a metadata.version.

The file has Kafka's layout: a snapshot (header, FeatureLevelRecords, footer) under the name
`bootstrap.checkpoint`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Mapping

from pybroker.metadata import features as feat
from pybroker.metadata import records as r
from raft import OffsetAndEpoch, SnapshotReader, SnapshotWriter

BOOTSTRAP_FILE = "bootstrap.checkpoint"
_BOOTSTRAP_ID = OffsetAndEpoch(0, 0)


class BootstrapError(Exception):
    """The bootstrap checkpoint cannot be read."""


def write_bootstrap(directory: Path | str, levels: Mapping[str, int]) -> Path:
    """Write the finalized feature levels a new cluster starts with (metadata.version first)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    frames = r.encode_records(feat.bootstrap_records(levels))
    work = Path(tempfile.mkdtemp(prefix=".bootstrap-", dir=directory))
    try:
        writer = SnapshotWriter(work, _BOOTSTRAP_ID, -1, now_ms=time.time_ns() // 1_000_000)
        try:
            writer.append(frames)
            written = writer.freeze()
        except BaseException:
            writer.abort()
            raise
        target = directory / BOOTSTRAP_FILE
        os.replace(written, target)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_bootstrap(directory: Path | str) -> dict[str, int] | None:
    """The feature levels of `directory`'s bootstrap checkpoint, None when there is none."""
    path = Path(directory) / BOOTSTRAP_FILE
    if not path.exists():
        return None
    try:
        reader = SnapshotReader.open_file(path, _BOOTSTRAP_ID)
        levels: dict[str, int] = {}
        for frame in reader.records():
            record = r.decode_record(frame)
            if isinstance(record, r.FeatureLevelRecord):
                levels[record.name] = record.feature_level
    except Exception as exc:
        raise BootstrapError(f"cannot read {path}: {exc}") from exc
    if feat.METADATA_VERSION not in levels:
        raise BootstrapError(f"{path} does not set metadata.version")
    return levels
