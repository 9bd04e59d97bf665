"""Stateful property test: any sequence of appends, reads, rolls, retention, truncation,
DeleteRecords, flushes and reopens (clean or crashed) agrees with a simple in-memory model."""

from __future__ import annotations

import dataclasses
import os
import shutil
import struct
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from storage import FileCache, Log, LogConfig, OffsetOutOfRangeError
from storage_helpers import batch_offsets, make_batch


class LogMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="logmodel-"))
        self.batches: list[tuple[int, int, bytes]] = []  # (base, last, stored bytes)
        self.start = 0
        self.epoch = 0
        self.now = 1_000_000
        self.cache = FileCache(max_open=7)  # tiny, so eviction and reopening are exercised

    @initialize(segment_bytes=st.integers(1100, 3000), interval=st.integers(0, 600))
    def open_log(self, segment_bytes: int, interval: int) -> None:
        self.cfg = LogConfig(segment_bytes=segment_bytes, index_interval_bytes=interval,
                             segment_index_bytes=240, retention_ms=-1)
        self.log = Log.open(self.tmp / "t-0", self.cfg, clock=self.clock, cache=self.cache)

    def clock(self) -> int:
        return self.now

    def teardown(self) -> None:
        self.log.close_without_flush()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def end(self) -> int:
        return self.batches[-1][1] + 1 if self.batches else self.start

    def visible(self) -> list[tuple[int, int, bytes]]:
        return [b for b in self.batches if b[1] >= self.start]

    # -- rules --------------------------------------------------------------------------------

    @rule(n=st.integers(1, 4), size=st.integers(0, 250), ts=st.integers(0, 10_000))
    def append(self, n: int, size: int, ts: int) -> None:
        raw = make_batch(n, value_size=size, timestamp=ts)
        r = self.log.append(raw, leader_epoch=self.epoch)
        assert r.first_offset == self.end
        stored = bytearray(raw)
        struct.pack_into(">q", stored, 0, r.first_offset)
        struct.pack_into(">i", stored, 12, self.epoch)
        self.batches.append((r.first_offset, r.last_offset, bytes(stored)))

    @rule()
    def bump_epoch(self) -> None:
        self.epoch += 1

    @rule()
    def roll(self) -> None:
        self.log.roll()

    @rule(data=st.data())
    def set_high_watermark(self, data) -> None:
        self.log.high_watermark = data.draw(st.integers(self.start - 2, self.end + 2))

    @rule(data=st.data(), max_bytes=st.integers(0, 2000), use_hw=st.booleans(), mob=st.booleans())
    def read(self, data, max_bytes: int, use_hw: bool, mob: bool) -> None:
        offset = data.draw(st.integers(self.start - 1, self.end + 1))
        hw = self.log.high_watermark
        if offset < self.start or offset > self.end:
            try:
                self.log.read(offset, max_bytes)
            except OffsetOutOfRangeError:
                return
            raise AssertionError("expected OffsetOutOfRangeError")
        res = self.log.read(offset, max_bytes, max_offset=hw if use_hw else None, min_one_batch=mob)
        limit = hw if use_hw else self.end
        got = bytes(res.records)
        assert res.log_end_offset == self.end and res.high_watermark == hw
        candidates = [b for b in self.batches if b[1] >= offset and b[1] < limit]
        if offset >= limit or not candidates:
            assert got == b""
            return
        seg_bases = {s.base_offset for s in self.log.segments()}
        run, size = [], 0
        for b in candidates:
            if run and b[0] in seg_bases:
                break
            if size + len(b[2]) > max_bytes and not (mob and not run):
                break
            run.append(b)
            size += len(b[2])
        assert got == b"".join(b[2] for b in run)

    @rule(data=st.data())
    def truncate(self, data) -> None:
        target = data.draw(st.integers(self.start, self.end))
        self.log.truncate_to(target)
        self.batches = [b for b in self.batches if b[1] < target]
        if self.batches and self.batches[-1][1] < self.start:
            # the batch holding the log start went: the log restarts empty at the start
            self.batches = []

    @rule(data=st.data())
    def delete_records(self, data) -> None:
        hw = self.log.high_watermark
        target = data.draw(st.integers(self.start, hw))
        assert self.log.delete_records_before(target) == max(self.start, target)
        self.start = max(self.start, target)

    @rule(limit=st.integers(0, 4000))
    def retention_bytes(self, limit: int) -> None:
        old_start = self.start
        self.log.update_config(dataclasses.replace(self.cfg, retention_bytes=limit, file_delete_delay_ms=0))
        deleted = self.log.apply_retention(self.now)
        self.log.update_config(self.cfg)
        new_start = self.log.log_start_offset
        assert new_start >= old_start and new_start <= max(self.log.high_watermark, old_start)
        if deleted:
            assert self.log.size_in_bytes >= min(limit, self.log.size_in_bytes)
        self.start = new_start

    @rule()
    def flush(self) -> None:
        rp = self.log.flush()
        assert rp == self.end

    @rule(clean=st.booleans())
    def reopen(self, clean: bool) -> None:
        rp = self.log.recovery_point
        hw = self.log.high_watermark
        if clean:
            self.log.close()
            rp = self.log.recovery_point
        else:
            self.log.close_without_flush()  # a crash: no trim, no snapshot, no checkpoint
        self.log = Log.open(self.tmp / "t-0", self.cfg, clock=self.clock, cache=self.cache,
                            recovery_point=rp, log_start_offset=self.start, high_watermark=hw,
                            clean_shutdown=clean)
        assert self.log.high_watermark == hw

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def offsets_agree(self) -> None:
        assert self.log.log_end_offset == self.end
        assert self.log.log_start_offset == self.start
        assert self.start <= self.log.high_watermark <= self.end
        assert self.log.recovery_point <= self.end
        assert self.cache.open_count <= 7

    @invariant()
    def contents_agree(self) -> None:
        hw = self.log.high_watermark
        self.log.high_watermark = self.end
        got = b""
        offset = self.start
        while offset < self.end:
            chunk = bytes(self.log.read(offset, 1 << 20).records)
            assert chunk, offset
            got += chunk
            offset = batch_offsets(chunk)[-1][1] + 1
        self.log.high_watermark = hw
        assert got == b"".join(b[2] for b in self.visible())


TestLogModel = LogMachine.TestCase
TestLogModel.settings = settings(max_examples=int(os.environ.get("STORAGE_MODEL_EXAMPLES", "80")),
                                 stateful_step_count=40, deadline=None)


@pytest.mark.slow
class TestLogModelLong(LogMachine.TestCase):
    settings = settings(max_examples=2000, stateful_step_count=80, deadline=None)
