"""Disk blocks allocated ahead of the log's write position: invisible to readers, given back
on roll, truncation and close, and Kafka's `preallocate` reserving a whole segment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from storage import Log, LogConfig
from storage import files
from storage.files import FileCache, FileRef
from storage.segment import RESERVE_MIN
from storage_helpers import batch_offsets, make_batch


def allocated(path: Path) -> int:
    return os.stat(path).st_blocks * 512


def segment_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.log"))


def filled_log(directory: Path, batch: bytes, batches: int, config: LogConfig | None = None) -> Log:
    log = Log.open(directory, config or LogConfig())
    for _ in range(batches):
        log.append(batch, leader_epoch=0)
    return log


def assert_given_back(path: Path) -> None:
    """No more than a filesystem block or so allocated past the end of the data."""
    assert allocated(path) < os.path.getsize(path) + 64 * 1024, path


@pytest.fixture
def reserving(tmp_path: Path) -> Path:
    """A directory whose filesystem reserves blocks past the end of a file (Linux fallocate)."""
    if sys.platform.startswith("linux"):
        assert files._fallocate is not None, "libc's fallocate should be reachable on Linux"
    cache = FileCache()
    ref = FileRef(str(tmp_path / "probe"))
    if not cache.reserve(ref, 0, 1 << 20) or allocated(tmp_path / "probe") < 1 << 20:
        cache.close_all()
        pytest.skip("this filesystem does not keep blocks allocated past the end of a file")
    cache.close_all()
    os.unlink(tmp_path / "probe")
    return tmp_path


def test_reserve_keeps_size_and_truncate_gives_blocks_back(reserving: Path):
    cache = FileCache()
    ref = FileRef(str(reserving / "f"))
    cache.pwrite(ref, b"x" * 1000, 0)
    assert cache.reserve(ref, 0, 4 << 20)
    assert cache.size(ref) == 1000
    assert allocated(reserving / "f") >= 4 << 20
    cache.truncate(ref, 1000)
    assert allocated(reserving / "f") < 64 * 1024
    assert cache.pread(ref, 2000, 0) == b"x" * 1000
    cache.close_all()


def test_appends_reserve_ahead_and_readers_see_only_data(reserving: Path):
    batch = make_batch(10, value_size=1000)
    log = filled_log(reserving / "t-0", batch, 50)
    (seg,) = segment_files(reserving / "t-0")
    assert os.path.getsize(seg) == 50 * len(batch) == log.size_in_bytes
    assert allocated(seg) > os.path.getsize(seg) + RESERVE_MIN // 2
    log.high_watermark = log.log_end_offset
    assert batch_offsets(log.read(0, 1 << 30).records)[-1] == (490, 499)
    log.close()
    assert_given_back(seg)


def test_roll_gives_back_what_the_old_segment_did_not_use(reserving: Path):
    log = Log.open(reserving / "t-0", LogConfig(segment_bytes=200_000))
    batch = make_batch(10, value_size=1000)
    while len(segment_files(reserving / "t-0")) < 3:
        log.append(batch, leader_epoch=0)
    for seg in segment_files(reserving / "t-0")[:-1]:
        assert_given_back(seg)
    log.close()


def test_reopen_after_a_crash_with_blocks_reserved(reserving: Path):
    batch = make_batch(5, value_size=500)
    filled_log(reserving / "t-0", batch, 20).close_without_flush()  # a crash: the reservation stays on disk
    log = Log.open(reserving / "t-0", LogConfig())
    assert log.log_end_offset == 100
    log.append(batch, leader_epoch=0)
    log.high_watermark = log.log_end_offset
    assert batch_offsets(log.read(0, 1 << 30).records) == [(i, i + 4) for i in range(0, 105, 5)]
    log.close()
    (seg,) = segment_files(reserving / "t-0")
    assert os.path.getsize(seg) == 21 * len(batch)
    assert_given_back(seg)


def test_truncation_frees_reserved_blocks(reserving: Path):
    batch = make_batch(5, value_size=500)
    log = filled_log(reserving / "t-0", batch, 20)
    log.truncate_to(50)
    (seg,) = segment_files(reserving / "t-0")
    assert os.path.getsize(seg) == 10 * len(batch)
    assert_given_back(seg)
    log.append(batch, leader_epoch=0)
    assert log.log_end_offset == 55
    log.close()


def test_preallocate_reserves_the_whole_segment(reserving: Path):
    log = Log.open(reserving / "t-0", LogConfig(segment_bytes=8 << 20, preallocate=True))
    (seg,) = segment_files(reserving / "t-0")
    assert os.path.getsize(seg) == 0
    assert allocated(seg) >= 8 << 20
    log.append(make_batch(1), leader_epoch=0)
    assert os.path.getsize(seg) == len(make_batch(1))
    log.close()
    assert allocated(seg) < 64 * 1024


def test_large_appends_reserve_further_ahead(reserving: Path):
    batch = make_batch(1, value_size=512 * 1024)
    log = filled_log(reserving / "t-0", batch, 1)
    (seg,) = segment_files(reserving / "t-0")
    assert allocated(seg) >= 16 * len(batch)  # sixteen appends like it, not just as much again
    log.close()
    assert_given_back(seg)
