"""Log appends, reads, rolls, reopen, truncation, DeleteRecords and retention."""

from __future__ import annotations

import os
import struct

import pytest

from protocol.errors import CorruptRecordError
from storage import (
    ConfigError, Log, LogConfig, OffsetOutOfRangeError, OffsetsOutOfOrderError, RecordTooLargeError,
)
from storage_helpers import batch_offsets, make_batch


class Clock:
    def __init__(self, now: int = 1_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def small_config(**kw) -> LogConfig:
    base = dict(segment_bytes=1024, index_interval_bytes=64, segment_index_bytes=4096)
    base.update(kw)
    return LogConfig(**base)


def test_append_assigns_offsets_and_leaves_input_alone(tmp_path):
    log = Log.open(tmp_path / "t-0", small_config())
    payload = make_batch(3, base_offset=999) + make_batch(2, base_offset=5)
    before = bytes(payload)
    r = log.append(payload, leader_epoch=4)
    assert payload == before
    assert (r.first_offset, r.last_offset, r.record_count) == (0, 4, 5)
    assert log.log_end_offset == 5
    log.high_watermark = 5
    data = log.read(0, 10_000).records
    assert batch_offsets(data) == [(0, 2), (3, 4)]
    # partitionLeaderEpoch stamped on every batch
    assert struct.unpack_from(">i", data, 12)[0] == 4
    assert log.leader_epochs.entries() == [(4, 0)]


def test_invalid_payload_writes_nothing(tmp_path):
    log = Log.open(tmp_path / "t-0", small_config())
    good = make_batch(1)
    bad = bytearray(make_batch(1))
    bad[-1] ^= 0xFF
    with pytest.raises(CorruptRecordError):
        log.append(good + bytes(bad), leader_epoch=0)
    with pytest.raises(CorruptRecordError):
        log.append(good + good[:30], leader_epoch=0)
    assert log.log_end_offset == 0 and log.size_in_bytes == 0
    with pytest.raises(RecordTooLargeError):
        Log.open(tmp_path / "t-1", small_config(max_message_bytes=50)).append(good, leader_epoch=0)


def test_log_append_time(tmp_path):
    clock = Clock(123_456)
    log = Log.open(tmp_path / "t-0", small_config(message_timestamp_type="LogAppendTime"), clock=clock)
    r = log.append(make_batch(2, timestamp=5), leader_epoch=0)
    assert r.log_append_time_ms == 123_456 and r.max_timestamp == 123_456
    log.high_watermark = 2
    data = log.read(0, 1000).records
    attrs, = struct.unpack_from(">h", data, 21)
    assert attrs & 0x08
    assert struct.unpack_from(">q", data, 35)[0] == 123_456
    from protocol.records import validate_batch
    validate_batch(data, 0)  # CRC recomputed


def test_read_bounds(tmp_path):
    log = Log.open(tmp_path / "t-0", small_config())
    for _ in range(20):
        log.append(make_batch(2, value_size=30), leader_epoch=0)
    log.high_watermark = 30
    with pytest.raises(OffsetOutOfRangeError):
        log.read(41, 100)
    with pytest.raises(OffsetOutOfRangeError):
        log.read(-1, 100)
    assert log.read(40, 100).records == b""
    # max_offset excludes the batch containing it and everything after
    last_seg = log.segments()[-1].base_offset
    r = log.read(last_seg, 100_000, max_offset=log.high_watermark)
    assert batch_offsets(r.records)[-1][1] == 29
    # max_bytes: whole batches only; the first batch whole even when larger
    one = len(make_batch(2, value_size=30))
    r = log.read(3, one * 2 + 5)
    assert batch_offsets(r.records) == [(2, 3), (4, 5)]
    r = log.read(3, 10)
    assert batch_offsets(r.records) == [(2, 3)]
    assert log.read(3, 10, min_one_batch=False).records == b""
    # reads stay within one segment
    assert log.number_of_segments > 1
    r = log.read(0, 1 << 20)
    assert len(r.records) <= 1024


def test_roll_on_size_and_time_and_reopen(tmp_path):
    clock = Clock()
    cfg = small_config(segment_ms=10_000)
    log = Log.open(tmp_path / "t-0", cfg, clock=clock)
    for i in range(30):
        log.append(make_batch(1, value_size=50, timestamp=clock.now), leader_epoch=0)
    n = log.number_of_segments
    assert n > 1
    clock.now += 20_000
    log.append(make_batch(1, timestamp=clock.now), leader_epoch=0)
    assert log.number_of_segments == n + 1
    log.close()
    names = sorted(os.listdir(tmp_path / "t-0"))
    assert "00000000000000000000.log" in names
    reopened = Log.open(tmp_path / "t-0", cfg, clock=clock, clean_shutdown=True)
    assert reopened.log_end_offset == 31
    assert reopened.number_of_segments == n + 1
    r = reopened.append(make_batch(1), leader_epoch=0)
    assert r.first_offset == 31


def test_follower_append_and_truncate(tmp_path):
    log = Log.open(tmp_path / "t-0", small_config())
    payload = make_batch(2, base_offset=0, partition_leader_epoch=1) + make_batch(3, base_offset=10, partition_leader_epoch=2)
    r = log.append_as_follower(payload)
    assert (r.first_offset, r.last_offset) == (0, 12)
    assert log.log_end_offset == 13
    assert log.leader_epochs.entries() == [(1, 0), (2, 10)]
    with pytest.raises(OffsetsOutOfOrderError):
        log.append_as_follower(make_batch(1, base_offset=12))
    for k in range(20):
        log.append_as_follower(make_batch(2, base_offset=13 + 2 * k, partition_leader_epoch=3, value_size=40))
    assert log.number_of_segments > 1
    assert log.truncate_to(20)
    assert log.log_end_offset == 19  # the batch holding 20 (19..20) goes whole
    assert log.leader_epochs.end_offset_for_epoch(2, log.log_end_offset) == (2, 13)
    r = log.append(make_batch(1), leader_epoch=5)
    assert r.first_offset == 19
    log.high_watermark = 100
    assert batch_offsets(log.read(17, 100_000).records)[-1] == (19, 19)


def test_truncate_below_start_restarts_log(tmp_path):
    log = Log.open(tmp_path / "t-0", small_config(), log_start_offset=100)
    log.append_as_follower(make_batch(2, base_offset=100))
    assert log.segments()[0].base_offset == 100
    log.truncate_to(50)
    assert (log.log_start_offset, log.log_end_offset) == (50, 50)
    assert log.append(make_batch(1), leader_epoch=0).first_offset == 50


def test_delete_records_and_retention(tmp_path):
    clock = Clock(10_000_000)
    log = Log.open(tmp_path / "t-0", small_config(retention_ms=1000, file_delete_delay_ms=0), clock=clock)
    for i in range(40):
        log.append(make_batch(1, value_size=60, timestamp=clock.now + i), leader_epoch=0)
    segs = log.number_of_segments
    with pytest.raises(OffsetOutOfRangeError):
        log.delete_records_before(10)  # above the high watermark
    log.high_watermark = 40
    assert log.delete_records_before(15) == 15
    assert log.number_of_segments < segs
    with pytest.raises(OffsetOutOfRangeError):
        log.read(14, 100)
    assert batch_offsets(log.read(15, 100).records)[0] == (15, 15)
    # retention.ms: everything is old; Kafka deletes it all and rolls a new empty segment
    clock.now += 10_000
    deleted = log.apply_retention()
    assert deleted > 0
    assert log.log_start_offset == 40 == log.log_end_offset
    assert log.number_of_segments == 1
    assert not [n for n in os.listdir(tmp_path / "t-0") if n.endswith(".deleted")]


def test_retention_bytes_keeps_at_least_the_limit(tmp_path):
    log = Log.open(tmp_path / "t-0", small_config(retention_bytes=2000, retention_ms=-1))
    for i in range(60):
        log.append(make_batch(1, value_size=60), leader_epoch=0)
    log.high_watermark = 60
    total = log.size_in_bytes
    log.apply_retention()
    assert 2000 <= log.size_in_bytes < total
    first = log.segments()[0]
    assert log.size_in_bytes - first.size < 2000


def test_retention_respects_high_watermark(tmp_path):
    clock = Clock(10_000_000)
    log = Log.open(tmp_path / "t-0", small_config(retention_ms=1), clock=clock)
    for i in range(40):
        log.append(make_batch(1, value_size=60, timestamp=0), leader_epoch=0)
    log.high_watermark = 0
    assert log.apply_retention() == 0
    log.high_watermark = log.segments()[2].base_offset
    assert log.apply_retention() == 2


def test_timestamps_at_record_level(tmp_path):
    log = Log.open(tmp_path / "t-0", small_config())
    log.append(make_batch(4, timestamps=[100, 300, 200, 400]), leader_epoch=0)
    log.append(make_batch(3, timestamps=[500, 900, 600]), leader_epoch=0)
    log.append(make_batch(1, timestamps=[50]), leader_epoch=0)
    assert log.offset_for_timestamp(150) == (300, 1)
    assert log.offset_for_timestamp(301) == (400, 3)
    assert log.offset_for_timestamp(700) == (900, 5)
    assert log.latest_timestamp() == (900, 5)
    log.high_watermark = 8
    log.delete_records_before(2)
    assert log.offset_for_timestamp(150) == (200, 2)


def test_offset_for_timestamp_and_max(tmp_path):
    log = Log.open(tmp_path / "t-0", small_config())
    for i in range(30):
        log.append(make_batch(1, value_size=40, timestamp=1000 + 10 * i), leader_epoch=0)
    log.append(make_batch(1, timestamp=500), leader_epoch=0)
    assert log.offset_for_timestamp(0) == (1000, 0)
    assert log.offset_for_timestamp(1155) == (1160, 16)
    assert log.offset_for_timestamp(1290) == (1290, 29)
    assert log.offset_for_timestamp(5000) is None
    assert log.latest_timestamp() == (1290, 29)


def test_config_from_properties():
    cfg = LogConfig.from_properties({"segment.bytes": "1048576", "cleanup.policy": "delete,compact",
                                     "min.cleanable.dirty.ratio": "0.2", "unknown.key": "x"})
    assert cfg.segment_bytes == 1048576 and cfg.cleanup_policy == "compact,delete"
    assert cfg.compact and cfg.delete
    with pytest.raises(ConfigError, match="segment.bytes"):
        LogConfig.from_properties({"segment.bytes": "lots"})
    with pytest.raises(ConfigError, match="retention.ms"):
        LogConfig.from_properties({"retention.ms": "-2"})
    with pytest.raises(ConfigError, match="message.timestamp.type"):
        LogConfig.from_properties({"message.timestamp.type": "Whenever"})
    broker = LogConfig.from_broker_properties({"log.retention.hours": "1", "log.segment.bytes": "2048"})
    assert broker.retention_ms == 3_600_000 and broker.segment_bytes == 2048
    assert LogConfig.from_properties(cfg.to_properties()) == cfg


def test_stale_segment_reads_never_create_files(tmp_path):
    log = Log.open(tmp_path / "t-0", small_config(retention_ms=1, file_delete_delay_ms=0))
    for _ in range(30):
        log.append(make_batch(1, value_size=60, timestamp=0), leader_epoch=0)
    old = log.segments()[0]
    log.high_watermark = log.log_end_offset
    assert log.apply_retention(10_000) > 0
    with pytest.raises(FileNotFoundError):
        old.read(0, 10)
    assert not os.path.exists(old.log_ref.path)
