"""LogManager: start-up after clean and unclean shutdown, checkpoint files, topic deletion,
retention passes, and the bound on open file descriptors."""

from __future__ import annotations

import os
import re

from storage import LogConfig
from storage.checkpoints import read_offsets
from storage.log_manager import LogManager, parse_partition_dir
from storage_helpers import batch_offsets, make_batch

CFG = LogConfig(segment_bytes=600, index_interval_bytes=100, segment_index_bytes=4096,
                file_delete_delay_ms=0)


def test_parse_partition_dir():
    assert parse_partition_dir("orders-3") == ("orders", 3)
    assert parse_partition_dir("my-topic.v2-12") == ("my-topic.v2", 12)
    assert parse_partition_dir("orders-3.0123abcd-delete") is None
    assert parse_partition_dir("orders-3.0123abcd-future") is None
    assert parse_partition_dir("orders") is None
    assert parse_partition_dir("orders-x") is None


def test_clean_shutdown_and_restart(tmp_path):
    dirs = [tmp_path / "d1", tmp_path / "d2"]
    mgr = LogManager(dirs, CFG)
    mgr.startup()
    for p in range(4):
        log = mgr.get_or_create_log("orders", p)
        for i in range(p * 5 + 1):
            log.append(make_batch(2, value_size=50), leader_epoch=1)
        log.high_watermark = log.log_end_offset
    # partitions spread across log dirs
    assert {mgr.log_dir_of("orders", p) for p in range(4)} == set(dirs)
    mgr.get_log("orders", 3).delete_records_before(4)
    mgr.close()
    for d in dirs:
        assert (d / ".kafka_cleanshutdown").exists()
        text = (d / "recovery-point-offset-checkpoint").read_text()
        assert re.fullmatch(r"0\n2\n(orders \d+ \d+\n){2}", text)
    starts = read_offsets(str(mgr.log_dir_of("orders", 3) / "log-start-offset-checkpoint"))
    assert starts[("orders", 3)] == 4

    again = LogManager(dirs, CFG)
    again.startup()
    for d in dirs:
        assert not (d / ".kafka_cleanshutdown").exists()  # a crash from now on is detected
    for p in range(4):
        log = again.get_log("orders", p)
        assert log.log_end_offset == (p * 5 + 1) * 2
        assert log.recovery_point == log.log_end_offset
        assert log.high_watermark == log.log_end_offset
    assert again.get_log("orders", 3).log_start_offset == 4
    again.close()


def test_unclean_restart_recovers_from_checkpointed_recovery_point(tmp_path):
    mgr = LogManager([tmp_path], CFG)
    mgr.startup()
    log = mgr.get_or_create_log("t", 0)
    for i in range(20):
        log.append(make_batch(1, value_size=80), leader_epoch=0)
    log.flush()
    mgr.write_checkpoints()
    log.append(make_batch(1, value_size=80), leader_epoch=0)
    seg = log.active_segment
    # crash with a torn tail
    os.truncate(seg.log_ref.path, seg.size - 5)
    again = LogManager([tmp_path], CFG)
    again.startup()
    assert again.get_log("t", 0).log_end_offset == 20


def test_delete_log_renames_then_removes(tmp_path):
    mgr = LogManager([tmp_path], CFG.__class__(file_delete_delay_ms=1000), clock=lambda: 5000)
    mgr.startup()
    log = mgr.get_or_create_log("gone", 7)
    log.append(make_batch(1), leader_epoch=0)
    assert mgr.delete_log("gone", 7)
    assert mgr.get_log("gone", 7) is None
    names = os.listdir(tmp_path)
    doomed = [n for n in names if n.endswith("-delete")]
    assert len(doomed) == 1 and re.fullmatch(r"gone-7\.[0-9a-f]{32}-delete", doomed[0])
    mgr.run_retention(5500)
    assert os.path.exists(tmp_path / doomed[0])
    mgr.run_retention(6001)
    assert not os.path.exists(tmp_path / doomed[0])
    # a -delete directory found at start-up is removed too
    (tmp_path / "old-1.0123456789abcdef0123456789abcdef-delete").mkdir()
    mgr.close()
    again = LogManager([tmp_path], CFG)
    again.startup()
    assert not [n for n in os.listdir(tmp_path) if n.endswith("-delete")]
    assert again.all_logs() == {}


def test_run_retention_and_flush_due(tmp_path):
    now = [10_000_000]
    cfg = LogConfig(segment_bytes=600, retention_ms=1000, flush_ms=50, file_delete_delay_ms=0)
    mgr = LogManager([tmp_path], cfg, clock=lambda: now[0])
    mgr.startup()
    log = mgr.get_or_create_log("t", 0)
    for i in range(20):
        log.append(make_batch(1, value_size=80, timestamp=now[0]), leader_epoch=0)
    log.high_watermark = log.log_end_offset
    now[0] += 100
    assert mgr.flush_due_logs() == [log]
    log.flush()
    assert mgr.flush_due_logs() == []
    now[0] += 5000
    assert mgr.run_retention() > 0
    assert log.log_start_offset == log.log_end_offset == 20
    mgr.close()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_open_file_handles_are_bounded(tmp_path):
    bound = 40
    mgr = LogManager([tmp_path], LogConfig(segment_bytes=400), max_open_files=bound)
    mgr.startup()
    base = _open_fds()
    partitions = 120
    for p in range(partitions):
        log = mgr.get_or_create_log("many", p)
        for i in range(3):
            log.append(make_batch(1, value_size=150), leader_epoch=0)
        log.high_watermark = log.log_end_offset
    for p in range(partitions):
        log = mgr.get_log("many", p)
        assert batch_offsets(log.read(0, 1 << 20).records)[0] == (0, 0)
        assert mgr.cache.open_count <= bound
    assert _open_fds() - base <= bound
    assert mgr.cache.opens > bound  # descriptors were recycled, not leaked
    mgr.close()
    assert mgr.cache.open_count == 0
    again = LogManager([tmp_path], LogConfig(segment_bytes=400), max_open_files=bound)
    base = _open_fds()
    again.startup()
    assert len(again.all_logs()) == partitions
    assert _open_fds() - base <= bound
    again.close()
