"""Crash recovery: torn and corrupt tails at hypothesis-chosen bytes, leftovers, swaps."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from storage import Log, LogConfig
from storage.segment import file_prefix
from storage_helpers import batch_offsets, make_batch

CFG = LogConfig(segment_bytes=900, index_interval_bytes=100, segment_index_bytes=4096)


def build_log(path: Path, sizes: list[int]) -> tuple[Log, list[tuple[int, int, int]]]:
    """Append one batch per size; return the log and (segment base, position, size) per batch."""
    log = Log.open(path, CFG)
    for i, n in enumerate(sizes):
        log.append(make_batch(1 + i % 3, value_size=n, timestamp=1000 + i), leader_epoch=i // 4)
    layout = []
    for seg in log.segments():
        for pos, base, delta, size, _ts in seg.scan_headers(0):
            layout.append((seg.base_offset, pos, size, base, base + delta))
    return log, layout


def all_bytes(log: Log) -> bytes:
    out = b""
    log.high_watermark = log.log_end_offset
    offset = log.log_start_offset
    while offset < log.log_end_offset:
        chunk = log.read(offset, 1 << 20).records
        assert chunk
        out += bytes(chunk)
        offset = batch_offsets(chunk)[-1][1] + 1
    return out


def expected_index(layout, base, interval):
    """Kafka's rule: an entry for a batch when more than `interval` bytes precede it since the
    last entry; the entry maps the batch's last offset to its position."""
    entries = []
    last_entry = 0
    for seg_base, pos, size, _b, last in layout:
        if seg_base != base:
            continue
        if pos - last_entry > interval:
            entries.append((last, pos))
            last_entry = pos
    return entries


def check_indexes(log: Log) -> None:
    for seg in log.segments():
        layout = [(seg.base_offset, p, s, b, b + d) for p, b, d, s, _ts in seg.scan_headers(0)]
        assert seg.index.entry_list() == expected_index(layout, seg.base_offset, CFG.index_interval_bytes)
        for target in range(seg.base_offset, (seg.next_offset or seg.base_offset) + 1):
            brute = next((p for _s, p, _z, _b, last in layout if last >= target), None)
            assert seg.find_position(target) == brute


def _flat_positions(layout):
    """Each batch with its position in the concatenation of all segments."""
    out, pos = [], 0
    for b in layout:
        out.append((b, pos))
        pos += b[2]
    return out


sizes_st = st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=25)


def torn_tail(tmp_path_factory, sizes, data):
    path = tmp_path_factory.mktemp("crash") / "t-0"
    log, layout = build_log(path, sizes)
    before = all_bytes(log)
    segs = log.segments()
    victim = data.draw(st.sampled_from(segs), label="segment")
    cut = data.draw(st.integers(min_value=0, max_value=victim.size), label="cut")
    os.truncate(victim.log_ref.path, cut)
    # crash: the log object is abandoned, nothing is closed or flushed
    reopened = Log.open(path, CFG, recovery_point=0)
    torn = any(b[0] == victim.base_offset and b[1] < cut < b[1] + b[2] for b in layout)
    in_victim = [b for b in layout if b[0] == victim.base_offset and b[1] + b[2] <= cut]
    before_victim = [b for b in layout if b[0] < victim.base_offset]
    after_victim = [b for b in layout if b[0] > victim.base_offset]
    # A torn batch ends the log there; a cut on a batch boundary loses only the batches it
    # removed: everything valid survives, later segments included (as in Kafka).
    kept = before_victim + in_victim + ([] if torn else after_victim)
    if kept and kept[-1][0] >= victim.base_offset:
        expected_end = kept[-1][4] + 1
    else:
        expected_end = victim.base_offset  # the victim survives empty: its base is the end
    assert reopened.log_end_offset == expected_end
    expected_bytes = b"".join(before[o:o + b[2]] for b, o in _flat_positions(layout) if b in kept)
    assert all_bytes(reopened) == expected_bytes
    check_indexes(reopened)
    r = reopened.append(make_batch(2), leader_epoch=9)
    assert r.first_offset == expected_end
    reopened.close()
    again = Log.open(path, CFG, clean_shutdown=True)
    assert again.log_end_offset == expected_end + 2
    assert all_bytes(again)[: len(expected_bytes)] == expected_bytes


def _crc_covered(layout, pos_in_file, seg_base):
    for b, p, size, _base, _last in layout:
        if b == seg_base and p <= pos_in_file < p + size:
            rel = pos_in_file - p
            # baseOffset and partitionLeaderEpoch are outside the CRC by design (Kafka's too).
            return not (rel < 8 or 12 <= rel < 16)
    return False


def corrupt_byte(tmp_path_factory, sizes, data):
    path = tmp_path_factory.mktemp("corrupt") / "t-0"
    log, layout = build_log(path, sizes)
    before = all_bytes(log)
    segs = [s for s in log.segments() if s.size]
    victim = data.draw(st.sampled_from(segs), label="segment")
    pos = data.draw(
        st.integers(min_value=0, max_value=victim.size - 1).filter(
            lambda p: _crc_covered(layout, p, victim.base_offset)),
        label="pos")
    flip = data.draw(st.integers(min_value=1, max_value=255), label="xor")
    with open(victim.log_ref.path, "r+b") as f:
        f.seek(pos)
        b = f.read(1)[0]
        f.seek(pos)
        f.write(bytes([b ^ flip]))
    reopened = Log.open(path, CFG, recovery_point=0)
    kept = [b for b in layout if b[0] < victim.base_offset or (b[0] == victim.base_offset and b[1] + b[2] <= pos)]
    assert all_bytes(reopened) == before[: sum(b[2] for b in kept)]
    check_indexes(reopened)
    end = reopened.log_end_offset
    assert reopened.append(make_batch(1), leader_epoch=0).first_offset == end


_QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_LONG = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_QUICK
@given(sizes=sizes_st, data=st.data())
def test_torn_tail_keeps_longest_valid_prefix(tmp_path_factory, sizes, data):
    torn_tail(tmp_path_factory, sizes, data)


@_QUICK
@given(sizes=sizes_st, data=st.data())
def test_corrupt_byte_keeps_prefix_before_it(tmp_path_factory, sizes, data):
    corrupt_byte(tmp_path_factory, sizes, data)


@pytest.mark.slow
@_LONG
@given(sizes=sizes_st, data=st.data())
def test_torn_tail_long(tmp_path_factory, sizes, data):
    torn_tail(tmp_path_factory, sizes, data)


@pytest.mark.slow
@_LONG
@given(sizes=sizes_st, data=st.data())
def test_corrupt_byte_long(tmp_path_factory, sizes, data):
    corrupt_byte(tmp_path_factory, sizes, data)


def test_recovery_scans_only_from_recovery_point(tmp_path):
    path = tmp_path / "t-0"
    log, layout = build_log(path, [150] * 20)
    log.flush()
    rp = log.recovery_point
    assert rp == log.log_end_offset
    first = log.segments()[0]
    # Garbage in an early segment goes unnoticed when the recovery point is past it...
    with open(first.log_ref.path, "r+b") as f:
        f.seek(40)
        f.write(b"\xff")
    reopened = Log.open(path, CFG, recovery_point=rp)
    assert reopened.log_end_offset == log.log_end_offset
    # ...and a torn active segment is still repaired, because its segment holds the point.
    active = reopened.segments()[-1]
    reopened.append(make_batch(1, value_size=100), leader_epoch=0)
    os.truncate(active.log_ref.path, active.size - 3)
    again = Log.open(path, CFG, recovery_point=rp)
    assert again.log_end_offset == rp


def test_clean_open_trusts_indexes_and_rebuilds_missing_ones(tmp_path):
    path = tmp_path / "t-0"
    log, layout = build_log(path, [120] * 30)
    end = log.log_end_offset
    log.close()
    # preallocated index files are trimmed on close
    for name in os.listdir(path):
        if name.endswith((".index", ".timeindex")):
            size = os.path.getsize(path / name)
            assert size % (8 if name.endswith(".index") else 12) == 0
            assert size < CFG.segment_index_bytes
    segs = sorted(n for n in os.listdir(path) if n.endswith(".log"))
    os.unlink(path / segs[1].replace(".log", ".index"))
    reopened = Log.open(path, CFG, clean_shutdown=True)
    assert reopened.log_end_offset == end
    check_indexes(reopened)


def test_clean_open_with_corrupt_active_index_rebuilds(tmp_path):
    path = tmp_path / "t-0"
    log, layout = build_log(path, [120] * 30)
    end = log.log_end_offset
    last = log.segments()[-1]
    log.close()
    with open(last.index.ref.path, "wb") as f:
        f.write(struct.pack(">ii", 5, 10_000_000))
    reopened = Log.open(path, CFG, clean_shutdown=True)
    assert reopened.log_end_offset == end
    check_indexes(reopened)


def test_leftover_files_are_removed_and_swaps_completed(tmp_path):
    path = tmp_path / "t-0"
    log, layout = build_log(path, [120] * 30)
    before = all_bytes(log)
    end = log.log_end_offset
    segs = log.segments()
    log.close()
    # An interrupted clean: .cleaned files must vanish.
    (path / (file_prefix(0) + ".log.cleaned")).write_bytes(b"junk")
    (path / (file_prefix(segs[1].base_offset) + ".log.deleted")).write_bytes(b"junk")
    (path / (file_prefix(1) + ".index")).write_bytes(b"")  # orphan index
    # A completed clean whose swap was interrupted: the .swap replaces segment 0 and 1.
    s0 = (path / (file_prefix(0) + ".log")).read_bytes()
    s1 = (path / (file_prefix(segs[1].base_offset) + ".log")).read_bytes()
    (path / (file_prefix(0) + ".log.swap")).write_bytes(s0 + s1)
    (path / (file_prefix(0) + ".index.swap")).write_bytes(b"")
    reopened = Log.open(path, CFG, clean_shutdown=True)
    names = os.listdir(path)
    assert not [n for n in names if n.endswith((".cleaned", ".deleted", ".swap"))]
    assert file_prefix(1) + ".index" not in names
    assert file_prefix(segs[1].base_offset) + ".log" not in names
    assert reopened.log_end_offset == end
    assert all_bytes(reopened) == before
    check_indexes(reopened)


def test_crash_without_close_loses_nothing_written(tmp_path):
    path = tmp_path / "t-0"
    log, layout = build_log(path, [80] * 40)
    before = all_bytes(log)
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)  # what a crashed process leaves (page cache survives)
    reopened = Log.open(copy, CFG)
    assert all_bytes(reopened) == before
    check_indexes(reopened)
