"""Producer-state validation as Kafka 3.x/4.x brokers decide, and its persistence."""

from __future__ import annotations

import time

import pytest

from protocol.errors import ErrorCode
from storage import Log, LogConfig, ProducerStateError, ProducerStateManager
from storage_helpers import batch_offsets, control_batch, make_batch

INT_MAX = (1 << 31) - 1


def psm_with(tmp_path, pid=1, epoch=0, seqs=((0, 4),)):
    psm = ProducerStateManager(str(tmp_path))
    off = 0
    for first, last in seqs:
        psm.update(pid, epoch, first, last, off, off + last - first, 1000, False)
        off += last - first + 1
    return psm


def test_unknown_producer_accepts_any_sequence(tmp_path):
    psm = ProducerStateManager(str(tmp_path))
    assert psm.check_and_prepare(7, 0, 0, 3, False).ok
    assert psm.check_and_prepare(7, 0, 42, 50, False).ok  # KIP-360: no UNKNOWN_PRODUCER_ID


def test_sequence_rules(tmp_path):
    psm = psm_with(tmp_path)
    assert psm.check_and_prepare(1, 0, 5, 9, False).ok
    assert psm.check_and_prepare(1, 0, 6, 9, False).error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert psm.check_and_prepare(1, 0, 3, 3, False).error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    # new epoch must restart at 0
    assert psm.check_and_prepare(1, 1, 0, 2, False).ok
    assert psm.check_and_prepare(1, 1, 5, 6, False).error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    # fenced epoch
    psm.update(1, 3, 0, 0, 10, 10, 1000, False)
    assert psm.check_and_prepare(1, 2, 1, 1, False).error is ErrorCode.INVALID_PRODUCER_EPOCH


def test_sequence_wraps_at_int_max(tmp_path):
    psm = psm_with(tmp_path, seqs=((INT_MAX - 4, INT_MAX),))
    assert psm.check_and_prepare(1, 0, 0, 3, False).ok
    assert psm.check_and_prepare(1, 0, 1, 3, False).error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER


def test_duplicates_within_last_five_batches(tmp_path):
    psm = psm_with(tmp_path, seqs=[(i * 2, i * 2 + 1) for i in range(6)])
    for i in range(1, 6):
        check = psm.check_and_prepare(1, 0, i * 2, i * 2 + 1, False)
        assert check.is_duplicate
        assert (check.duplicate.first_offset, check.duplicate.last_offset) == (i * 2, i * 2 + 1)
    # the sixth-newest batch is forgotten: a retry of it is out of order
    assert psm.check_and_prepare(1, 0, 0, 1, False).error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    # same sequence range but another epoch is not a duplicate
    assert not psm.check_and_prepare(1, 1, 2, 3, False).is_duplicate


def test_transaction_state(tmp_path):
    psm = ProducerStateManager(str(tmp_path))
    psm.update(5, 0, 0, 0, 100, 100, 1, True)
    assert psm.first_unstable_offset() == 100
    assert psm.check_and_prepare(5, 0, 1, 1, False).error is ErrorCode.INVALID_TXN_STATE
    assert psm.check_and_prepare(5, 0, 1, 1, True).ok
    assert psm.update_end_txn(5, 0, 3, 2) == 100
    assert psm.first_unstable_offset() is None


def test_log_append_duplicate_and_errors(tmp_path):
    log = Log.open(tmp_path / "t-0", LogConfig())
    b0 = make_batch(3, producer_id=11, producer_epoch=0, base_sequence=0)
    b1 = make_batch(2, producer_id=11, producer_epoch=0, base_sequence=3)
    r0 = log.append(b0, leader_epoch=0)
    r1 = log.append(b1, leader_epoch=0)
    end = log.log_end_offset
    dup = log.append(b0, leader_epoch=0)
    assert dup.duplicate and (dup.first_offset, dup.last_offset) == (r0.first_offset, r0.last_offset)
    assert log.log_end_offset == end
    with pytest.raises(ProducerStateError) as e:
        log.append(make_batch(1, producer_id=11, producer_epoch=0, base_sequence=9), leader_epoch=0)
    assert e.value.error_code is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    bumped = log.append(make_batch(1, producer_id=11, producer_epoch=1, base_sequence=0), leader_epoch=0)
    assert bumped.first_offset == r1.last_offset + 1
    with pytest.raises(ProducerStateError) as e:
        log.append(make_batch(1, producer_id=11, producer_epoch=0, base_sequence=5), leader_epoch=0)
    assert e.value.error_code is ErrorCode.INVALID_PRODUCER_EPOCH
    assert log.log_end_offset == bumped.last_offset + 1


def test_producer_state_survives_clean_reopen_and_crash(tmp_path):
    cfg = LogConfig(segment_bytes=600)
    log = Log.open(tmp_path / "t-0", cfg)
    seq = 0
    now = int(time.time() * 1000)  # entries older than producer.id.expiration.ms are dropped on load
    for i in range(12):
        log.append(make_batch(2, producer_id=4, producer_epoch=1, base_sequence=seq, value_size=40,
                              timestamp=now), leader_epoch=0)
        seq += 2
    last = log.log_end_offset - 1
    assert log.number_of_segments > 1
    log.close()
    clean = Log.open(tmp_path / "t-0", cfg, clean_shutdown=True)
    entry = clean.producer_state.producers[4]
    assert entry.last_seq == seq - 1 and entry.last_data_offset == last
    # the last batch is a duplicate after reopen; the next sequence is accepted
    dup = clean.append(make_batch(2, producer_id=4, producer_epoch=1, base_sequence=seq - 2), leader_epoch=0)
    assert dup.duplicate and dup.last_offset == last
    clean.append(make_batch(1, producer_id=4, producer_epoch=1, base_sequence=seq), leader_epoch=0)
    # crash: no close, no snapshot at the end; state rebuilt from the last roll's snapshot
    crashed = Log.open(tmp_path / "t-0", cfg)
    entry = crashed.producer_state.producers[4]
    assert entry.last_seq == seq and entry.last_data_offset == last + 1


def test_control_batch_ends_transaction(tmp_path):
    log = Log.open(tmp_path / "t-0", LogConfig())
    log.append(make_batch(1, producer_id=8, producer_epoch=0, base_sequence=0, attributes=0x10), leader_epoch=0)
    assert log.producer_state.first_unstable_offset() == 0
    log.append(control_batch(producer_id=8, producer_epoch=0, commit=True, coordinator_epoch=3), leader_epoch=0)
    assert log.producer_state.first_unstable_offset() is None
    assert log.producer_state.producers[8].coordinator_epoch == 3
    log.high_watermark = 2
    assert batch_offsets(log.read(0, 1000).records) == [(0, 0), (1, 1)]
