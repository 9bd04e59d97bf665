"""Leader-epoch cache semantics (OffsetForLeaderEpoch) and flushing from another thread."""

from __future__ import annotations

import threading

from storage import LeaderEpochCache, Log, LogConfig
from storage_helpers import batch_offsets, make_batch


def test_end_offset_for_epoch(tmp_path):
    cache = LeaderEpochCache(str(tmp_path))
    assert cache.end_offset_for_epoch(0, 0) == (-1, -1)
    cache.assign(1, 0)
    cache.assign(3, 10)
    cache.assign(5, 20)
    assert cache.end_offset_for_epoch(-1, 30) == (-1, -1)
    assert cache.end_offset_for_epoch(5, 30) == (5, 30)  # latest epoch ends at the log end
    assert cache.end_offset_for_epoch(3, 30) == (3, 20)
    assert cache.end_offset_for_epoch(4, 30) == (3, 20)  # unknown: largest smaller epoch
    assert cache.end_offset_for_epoch(0, 30) == (0, 0)  # older than all: the first start
    assert cache.end_offset_for_epoch(6, 30) == (-1, -1)
    assert cache.epoch_for_offset(15) == 3


def test_assign_truncates_contradicting_entries(tmp_path):
    cache = LeaderEpochCache(str(tmp_path))
    cache.assign(1, 0)
    cache.assign(2, 10)
    cache.assign(3, 20)
    cache.assign(2, 5)  # an older epoch at a smaller offset replaces what it contradicts
    assert cache.entries() == [(1, 0), (2, 5)]
    assert not cache.assign(2, 7)  # same epoch, later offset: nothing to do
    cache.truncate_from_end(5)
    assert cache.entries() == [(1, 0)]
    cache.assign(4, 12)
    cache.truncate_from_start(6)
    assert cache.entries() == [(1, 6), (4, 12)]
    cache.write()
    assert LeaderEpochCache(str(tmp_path)).entries() == [(1, 6), (4, 12)]


def test_truncation_restores_producer_state(tmp_path):
    log = Log.open(tmp_path / "t-0", LogConfig(segment_bytes=500))
    for seq in range(0, 20, 2):
        log.append(make_batch(2, producer_id=3, producer_epoch=0, base_sequence=seq, value_size=30,
                              timestamp=10**12), leader_epoch=seq // 6)
    assert log.number_of_segments > 2
    log.truncate_to(9)
    # the batch 8..9 went whole; the producer's last sequence is now 7
    assert log.log_end_offset == 8
    assert log.producer_state.producers[3].last_seq == 7
    assert log.append(make_batch(2, producer_id=3, producer_epoch=0, base_sequence=8, timestamp=10**12),
                      leader_epoch=9).first_offset == 8
    assert log.leader_epochs.entries()[-1] == (9, 8)


def test_flush_from_another_thread_while_appending(tmp_path):
    path = tmp_path / "t-0"
    log = Log.open(path, LogConfig(segment_bytes=4000, flush_messages=50))
    stop = threading.Event()
    flushed = []

    def flusher():
        while not stop.is_set():
            flushed.append(log.flush())

    t = threading.Thread(target=flusher)
    t.start()
    asked = 0
    for i in range(400):
        r = log.append(make_batch(1, value_size=100), leader_epoch=0)
        asked += r.needs_flush
    stop.set()
    t.join()
    assert asked > 0
    assert flushed == sorted(flushed) and flushed[-1] <= log.log_end_offset
    rp = log.flush()
    assert rp == log.log_end_offset == 400
    # a crash now recovers only the segment holding the recovery point
    reopened = Log.open(path, LogConfig(segment_bytes=4000), recovery_point=rp)
    reopened.high_watermark = 400
    assert batch_offsets(reopened.read(399, 1000).records) == [(399, 399)]
