"""Compaction: latest values survive at their offsets, tombstones expire by delete horizon,
lag and ratio are respected, producer metadata is kept, interrupted cleans stay consistent."""

from __future__ import annotations

import os
import random
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from protocol.records import DELETE_HORIZON_FLAG, decode_batch, iter_batches, record_timestamp
from storage import Log, LogConfig
from storage.cleaner import clean_log
from storage.log_manager import LogManager
from storage_helpers import make_batch

CFG = LogConfig(cleanup_policy="compact", segment_bytes=700, index_interval_bytes=100,
                segment_index_bytes=4096, delete_retention_ms=1000, file_delete_delay_ms=0)


class Clock:
    def __init__(self, now: int = 10_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def records_of(log: Log) -> list[tuple[int, bytes | None, bytes | None, int]]:
    """(offset, key, value, timestamp) of every record, reading segment by segment."""
    hw = log.high_watermark
    log.high_watermark = log.log_end_offset
    out = []
    offset = log.log_start_offset
    while offset < log.log_end_offset:
        data = bytes(log.read(offset, 1 << 20).records)
        if not data:
            break
        last = offset
        for pos, h in iter_batches(data):
            header, recs = decode_batch(data, pos)
            for r in recs:
                out.append((header.base_offset + r.offset_delta, r.key, r.value, record_timestamp(header, r)))
            last = header.base_offset + header.last_offset_delta
        offset = last + 1
    log.high_watermark = hw
    return out


def append_keyed(log: Log, items: list[tuple[bytes, bytes | None]], ts: int, **kw) -> None:
    log.append(make_batch(items, timestamp=ts, **kw), leader_epoch=0)


def fill(log: Log, rng: random.Random, n: int, keys: int, ts: int) -> list[tuple[int, bytes, bytes | None]]:
    written = []
    for _ in range(n):
        items = [(b"k%d" % rng.randrange(keys), b"v%d" % rng.randrange(10**6)) for _ in range(rng.randint(1, 3))]
        first = log.log_end_offset
        append_keyed(log, items, ts)
        written += [(first + i, k, v) for i, (k, v) in enumerate(items)]
    return written


def latest_by_key(written, below):
    latest = {}
    for off, k, v in written:
        if off < below:
            latest[k] = (off, v)
    return latest


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), n=st.integers(5, 60), keys=st.integers(1, 12))
def test_latest_value_per_key_survives_at_its_offset(tmp_path_factory, seed, n, keys):
    rng = random.Random(seed)
    log = Log.open(tmp_path_factory.mktemp("c") / "t-0", CFG, clock=Clock())
    written = fill(log, rng, n, keys, ts=1000)
    end = log.log_end_offset
    log.roll()
    log.high_watermark = end
    before_size = log.size_in_bytes
    stats = clean_log(log, force=True)
    assert log.log_end_offset == end
    got = records_of(log)
    offsets = [o for o, *_ in got]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    cleaned_end = stats.end_offset
    expected = latest_by_key(written, cleaned_end)
    cleaned = [(o, k, v) for o, k, v, _ in got if o < cleaned_end]
    assert {k: (o, v) for o, k, v in cleaned} == expected
    assert len(cleaned) == len(expected)  # nothing superseded is left
    tail = [(o, k, v) for o, k, v, _ in got if o >= cleaned_end]
    assert tail == [w for w in written if w[0] >= cleaned_end]
    assert log.size_in_bytes <= before_size
    # the cleaned log survives a clean reopen and a crash reopen unchanged
    log.close()
    assert records_of(Log.open(log.dir, CFG, clean_shutdown=True)) == got
    assert records_of(Log.open(log.dir, CFG)) == got


def test_tombstones_expire_after_delete_retention(tmp_path):
    clock = Clock()
    log = Log.open(tmp_path / "t-0", CFG, clock=clock)
    append_keyed(log, [(b"a", b"1"), (b"b", b"1")], ts=clock.now)
    append_keyed(log, [(b"a", None)], ts=clock.now + 5)
    log.roll()
    log.high_watermark = log.log_end_offset
    clean_log(log, force=True)
    got = records_of(log)
    assert [(o, k, v) for o, k, v, _ in got] == [(1, b"b", b"1"), (2, b"a", None)]
    # the tombstone's batch now carries the delete horizon; record timestamps are unchanged
    seg = log.segments()[0]
    data = seg.read(0, seg.size)
    horizons = [(h.attributes & DELETE_HORIZON_FLAG, h.base_timestamp) for _p, h in iter_batches(data)]
    assert horizons[-1] == (DELETE_HORIZON_FLAG, clock.now + CFG.delete_retention_ms)
    assert got[-1][3] == clock.now + 5
    assert log.latest_delete_horizon == clock.now + CFG.delete_retention_ms
    # before the horizon nothing changes; after it the tombstone goes, without new dirty data
    clock.now += CFG.delete_retention_ms - 1
    assert clean_log(log) is None or [r[:3] for r in records_of(log)] == [(1, b"b", b"1"), (2, b"a", None)]
    clock.now += 2
    stats = clean_log(log)
    assert stats is not None and stats.tombstones_removed == 1
    assert [(o, k, v) for o, k, v, _ in records_of(log)] == [(1, b"b", b"1")]
    assert log.log_end_offset == 3


def test_min_compaction_lag_and_dirty_ratio(tmp_path):
    clock = Clock()
    cfg = LogConfig(cleanup_policy="compact", segment_bytes=700, min_compaction_lag_ms=10_000,
                    min_cleanable_dirty_ratio=0.5, file_delete_delay_ms=0)
    log = Log.open(tmp_path / "t-0", cfg, clock=clock)
    for i in range(30):
        append_keyed(log, [(b"k", b"v%d" % i)], ts=clock.now)
    log.roll()
    log.high_watermark = log.log_end_offset
    assert clean_log(log) is None  # every segment is younger than min.compaction.lag.ms
    clock.now += 20_000
    stats = clean_log(log)
    assert stats is not None
    assert [(o, k, v) for o, k, v, _ in records_of(log)] == [(29, b"k", b"v29")]
    # one new dirty segment is far below the 50% dirty ratio of a large clean part
    for i in range(60):
        append_keyed(log, [(b"x%d" % i, b"1")], ts=clock.now)
    log.roll()
    log.high_watermark = log.log_end_offset
    clock.now += 20_000
    clean_log(log)
    append_keyed(log, [(b"x1", b"2")], ts=clock.now)
    log.roll()
    log.high_watermark = log.log_end_offset
    clock.now += 20_000
    assert clean_log(log) is None


def test_high_watermark_and_active_segment_bound_cleaning(tmp_path):
    log = Log.open(tmp_path / "t-0", CFG, clock=Clock())
    for i in range(40):
        append_keyed(log, [(b"k", b"%d" % i)], ts=1)
    segs = log.segments()
    log.high_watermark = segs[2].base_offset + 1
    stats = clean_log(log, force=True)
    assert stats.end_offset <= segs[2].base_offset
    got = records_of(log)
    assert [o for o, *_ in got if o >= stats.end_offset] == list(range(stats.end_offset, 40))


def test_producer_metadata_and_offsets_kept(tmp_path):
    log = Log.open(tmp_path / "t-0", CFG, clock=Clock())
    log.append(make_batch([(b"a", b"1"), (b"b", b"1"), (b"c", b"1")], producer_id=77, producer_epoch=3,
                          base_sequence=10), leader_epoch=2)
    log.append(make_batch([(b"a", b"2"), (b"b", b"2"), (b"c", b"2")], producer_id=78, producer_epoch=1,
                          base_sequence=0), leader_epoch=2)
    log.append(make_batch([(b"z", b"0")]), leader_epoch=2)
    log.roll()
    log.high_watermark = log.log_end_offset
    clean_log(log, force=True)
    seg = log.segments()[0]
    headers = [h for _p, h in iter_batches(seg.read(0, seg.size))]
    # producer 77's only batch lost all records but stays, empty, as its last batch
    h77 = headers[0]
    assert (h77.producer_id, h77.producer_epoch, h77.base_sequence, h77.base_offset, h77.last_offset_delta,
            h77.records_count, h77.partition_leader_epoch) == (77, 3, 10, 0, 2, 0, 2)
    assert [(h.producer_id, h.base_offset) for h in headers] == [(77, 0), (78, 3), (-1, 6)]
    # the producer's sequence survives a reopen that rebuilds state from the cleaned log
    log.close()
    for name in os.listdir(log.dir):
        if name.endswith(".snapshot"):
            os.unlink(log.dir / name)
    reopened = Log.open(log.dir, CFG, clock=Clock(1500))
    assert reopened.producer_state.producers[77].last_seq == 12
    r = reopened.append(make_batch(1, producer_id=78, producer_epoch=1, base_sequence=3), leader_epoch=2)
    assert r.first_offset == 7


@pytest.mark.parametrize("fail_at", range(7))
def test_interrupted_swap_leaves_a_consistent_log(tmp_path, monkeypatch, fail_at):
    log = Log.open(tmp_path / "t-0", CFG, clock=Clock())
    rng = random.Random(fail_at)
    written = fill(log, rng, 40, 5, ts=1000)
    end = log.log_end_offset
    log.roll()
    log.high_watermark = end
    before = records_of(log)
    import storage.log as log_module

    real = log_module.os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        if calls["n"] == fail_at:
            raise OSError("simulated crash")
        calls["n"] += 1
        return real(src, dst)

    monkeypatch.setattr(log_module.os, "replace", flaky)
    try:
        clean_log(log, force=True)
    except OSError:
        pass  # the injected crash
    monkeypatch.setattr(log_module.os, "replace", real)
    # crash: reopen from disk without closing
    reopened = Log.open(tmp_path / "t-0", CFG, clock=Clock())
    got = records_of(reopened)
    assert reopened.log_end_offset == end
    names = os.listdir(tmp_path / "t-0")
    assert not [n for n in names if n.endswith((".cleaned", ".swap"))]
    latest = latest_by_key(written, end)
    assert {k: (o, v) for o, k, v, _ in got} == latest
    offsets = [o for o, *_ in got]
    assert offsets == sorted(offsets)
    assert got == before or len(got) < len(before)


def test_background_cleaner_with_concurrent_appends(tmp_path):
    mgr = LogManager([tmp_path], CFG)
    mgr.startup()
    log = mgr.get_or_create_log("compacted", 0)
    mgr.start_cleaner(backoff_ms=5)
    rng = random.Random(1)
    written = []
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            written += fill(log, rng, 20, 8, ts=int(time.time() * 1000))
            log.high_watermark = log.log_end_offset
            if mgr.cleaner.state.cleaned >= 3:
                break
            time.sleep(0.005)
    finally:
        mgr.stop_cleaner()
    assert mgr.cleaner is None
    got = records_of(log)
    latest = latest_by_key(written, log.log_end_offset)
    assert {k: (o, v) for o, k, v, _ in got} == latest
    assert len(got) < len(written)
    mgr.close()
