"""Transactions in the partition log: markers, the aborted-transaction index (`.txnindex`, byte
layout, lookups, recovery rebuild, truncation), and the last stable offset."""

from __future__ import annotations

import os
import shutil
import struct

import pytest

from protocol.errors import ErrorCode
from storage import Log, LogConfig, ProducerStateError
from storage.txn_index import ENTRY_SIZE, AbortedTxn, TransactionIndex
from storage_helpers import make_batch

TXN = 0x10


def cfg(**kw) -> LogConfig:
    base = dict(segment_bytes=1024, index_interval_bytes=64, segment_index_bytes=4096)
    base.update(kw)
    return LogConfig(**base)


class Writer:
    """Appends transactional and plain batches with per-producer sequences."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.seq: dict[int, int] = {}

    def txn(self, pid: int, n: int = 2, epoch: int = 0) -> tuple[int, int]:
        seq = self.seq.get(pid, 0)
        r = self.log.append(make_batch(n, producer_id=pid, producer_epoch=epoch, base_sequence=seq,
                                       attributes=TXN), leader_epoch=0)
        self.seq[pid] = seq + n
        return r.first_offset, r.last_offset

    def plain(self, n: int = 1) -> tuple[int, int]:
        r = self.log.append(make_batch(n), leader_epoch=0)
        return r.first_offset, r.last_offset

    def end(self, pid: int, commit: bool, epoch: int = 0, coordinator_epoch: int = 0) -> int:
        r = self.log.append_end_txn_marker(pid, epoch, coordinator_epoch, commit, leader_epoch=0,
                                           timestamp=1_000)
        return r.first_offset


def advance(log: Log) -> None:
    log.high_watermark = log.log_end_offset


def test_entry_byte_layout(tmp_path):
    idx = TransactionIndex(str(tmp_path / "00000000000000000000.txnindex"), 0)
    idx.append(AbortedTxn(producer_id=7, first_offset=3, last_offset=9, last_stable_offset=10))
    data = (tmp_path / "00000000000000000000.txnindex").read_bytes()
    assert ENTRY_SIZE == 34 and len(data) == 34
    assert data == struct.pack(">hqqqq", 0, 7, 3, 9, 10)
    with pytest.raises(ValueError):
        idx.append(AbortedTxn(8, 4, 9, 10))  # markers only move forward
    fresh = TransactionIndex(idx.path, 0)
    assert fresh.entries == [AbortedTxn(7, 3, 9, 10)]


def test_abort_indexes_and_commit_does_not(tmp_path):
    log = Log.open(tmp_path / "t-0", cfg())
    w = Writer(log)
    first, _ = w.txn(1)          # 0-1
    w.plain()                    # 2
    w.txn(1)                     # 3-4
    advance(log)
    assert log.first_unstable_offset() == first
    assert log.last_stable_offset == 0
    marker = w.end(1, commit=False)  # 5
    advance(log)
    assert log.first_unstable_offset() is None
    assert log.last_stable_offset == log.high_watermark == 6
    assert log.collect_aborted_transactions(0, 6) == [AbortedTxn(1, 0, marker, marker + 1)]
    w.txn(2)                     # 6-7
    w.end(2, commit=True)        # 8
    advance(log)
    assert log.collect_aborted_transactions(0, 9) == [AbortedTxn(1, 0, 5, 6)]
    # a marker of an empty transaction changes nothing
    w.end(3, commit=False)
    assert len(log.active_segment.txn_index.entries) == 1
    entry = log.producer_state.producers[1]
    assert entry.current_txn_first_offset is None


def test_entry_lso_points_at_the_next_open_transaction(tmp_path):
    log = Log.open(tmp_path / "t-0", cfg())
    w = Writer(log)
    w.txn(1)                     # 0-1
    w.txn(2)                     # 2-3
    w.txn(1)                     # 4-5
    m1 = w.end(1, commit=False)  # 6
    advance(log)
    assert log.collect_aborted_transactions(0, 7) == [AbortedTxn(1, 0, m1, 2)]
    assert log.last_stable_offset == 2
    w.end(2, commit=False)       # 7
    advance(log)
    assert log.last_stable_offset == 8
    assert [t.producer_id for t in log.collect_aborted_transactions(0, 8)] == [1, 2]
    # lookups: overlap with [start, upper)
    assert log.collect_aborted_transactions(7, 8) == [AbortedTxn(2, 2, 7, 8)]
    assert log.collect_aborted_transactions(0, 2) == [AbortedTxn(1, 0, 6, 2)]
    assert log.collect_aborted_transactions(8, 8) == []


def test_lookup_spans_segments_and_stops_at_the_bound(tmp_path):
    log = Log.open(tmp_path / "t-0", cfg())
    w = Writer(log)
    w.txn(1)                 # 0-1, segment 0
    log.roll()
    w.plain(3)               # 2-4, segment 2
    log.roll()
    m = w.end(1, commit=False)   # 5, segment 5 holds the entry
    w.txn(2)                     # 6-7
    log.roll()
    m2 = w.end(2, commit=False)  # 8
    advance(log)
    assert [s.base_offset for s in log.segments()] == [0, 2, 5, 8]
    assert not os.path.exists(log.segments()[0].txn_index.path)
    assert log.segments()[2].txn_index.entries == [AbortedTxn(1, 0, m, m + 1)]
    # a fetch from offset 0 finds the entry two segments later
    assert log.collect_aborted_transactions(0, 2) == [AbortedTxn(1, 0, 5, 6)]
    assert log.collect_aborted_transactions(3, 9) == [AbortedTxn(1, 0, 5, 6), AbortedTxn(2, 6, m2, m2 + 1)]


def test_unreplicated_marker_holds_the_lso(tmp_path):
    log = Log.open(tmp_path / "t-0", cfg())
    w = Writer(log)
    w.txn(1)                 # 0-1
    log.high_watermark = 2
    w.end(1, commit=True)    # 2, not yet below the high watermark
    assert log.producer_state.first_unstable_offset() is None
    assert log.last_stable_offset == 0
    log.high_watermark = 3
    assert log.last_stable_offset == 3
    assert log.first_unstable_offset() is None


def test_marker_epoch_checks(tmp_path):
    log = Log.open(tmp_path / "t-0", cfg())
    w = Writer(log)
    w.txn(1, epoch=3)
    with pytest.raises(ProducerStateError) as err:
        log.append_end_txn_marker(1, 2, 0, True, leader_epoch=0)
    assert err.value.error_code == ErrorCode.INVALID_PRODUCER_EPOCH
    w.end(1, commit=True, epoch=3, coordinator_epoch=5)
    w.txn(1, epoch=3)
    with pytest.raises(ProducerStateError) as err:
        log.append_end_txn_marker(1, 3, 4, False, leader_epoch=0)
    assert err.value.error_code == ErrorCode.TRANSACTION_COORDINATOR_FENCED
    # a marker with a bumped epoch (an epoch fence) is accepted
    w.end(1, commit=False, epoch=4, coordinator_epoch=5)
    assert log.producer_state.producers[1].epoch == 4


def test_transaction_version_2_marker_epoch_checks(tmp_path):
    """A version 2 marker carries the epoch bumped past its transaction's: at the epoch of an
    open transaction it is a late marker of the previous transaction (KAFKA-19446); with no
    transaction open, a retry of the one written (KAFKA-19999)."""
    log = Log.open(tmp_path / "t-0", cfg())
    w = Writer(log)
    w.txn(1, epoch=3)
    log.append_end_txn_marker(1, 4, 0, True, leader_epoch=0, transaction_version=2)
    assert log.producer_state.producers[1].epoch == 4
    log.append_end_txn_marker(1, 4, 0, True, leader_epoch=0, transaction_version=2)  # a retry
    w.seq[1] = 0
    w.txn(1, epoch=4)  # the next transaction, at the bumped epoch
    end = log.log_end_offset
    with pytest.raises(ProducerStateError) as err:
        log.append_end_txn_marker(1, 4, 0, True, leader_epoch=0, transaction_version=2)
    assert err.value.error_code == ErrorCode.INVALID_PRODUCER_EPOCH and log.log_end_offset == end
    # the classic check accepts the same epoch
    log.append_end_txn_marker(1, 4, 0, False, leader_epoch=0)


def test_follower_appends_index_aborts(tmp_path):
    leader = Log.open(tmp_path / "a", cfg())
    w = Writer(leader)
    w.txn(1)
    w.plain()
    w.end(1, commit=False)
    advance(leader)
    follower = Log.open(tmp_path / "b", cfg())
    follower.append_as_follower(leader.read(0, 1 << 20).records)
    follower.high_watermark = 4
    assert follower.collect_aborted_transactions(0, 4) == leader.collect_aborted_transactions(0, 4)
    assert follower.last_stable_offset == 4


def _scenario(log: Log) -> None:
    w = Writer(log)
    w.txn(1)            # 0-1
    w.txn(2)            # 2-3
    log.roll()
    w.plain()           # 4
    w.end(1, commit=False)  # 5
    w.txn(3)            # 6-7
    log.roll()
    w.end(2, commit=True)   # 8
    w.txn(1)            # 9-10
    w.end(3, commit=False)  # 11
    w.end(1, commit=False)  # 12
    w.txn(4)            # 13-14 (left open)
    advance(log)


def test_recovery_rebuilds_indexes(tmp_path):
    path = tmp_path / "t-0"
    log = Log.open(path, cfg())
    _scenario(log)
    expected = log.collect_aborted_transactions(0, log.log_end_offset)
    assert [(t.producer_id, t.first_offset, t.last_offset) for t in expected] == [
        (1, 0, 5), (3, 6, 11), (1, 9, 12)]
    per_segment = {s.base_offset: list(s.txn_index.entries) for s in log.segments()}
    log.close()
    # a crash: every .txnindex lost, recovery scans from the start
    for name in os.listdir(path):
        if name.endswith(".txnindex"):
            os.unlink(path / name)
    reopened = Log.open(path, cfg(), recovery_point=0, high_watermark=15)
    assert {s.base_offset: s.txn_index.entries for s in reopened.segments()} == per_segment
    assert reopened.first_unstable_offset() == 13
    reopened.close()
    # a clean open trusts the files as they are
    again = Log.open(path, cfg(), clean_shutdown=True, high_watermark=15)
    assert again.collect_aborted_transactions(0, 15) == expected


def test_recovery_from_a_snapshot_in_the_middle(tmp_path):
    path = tmp_path / "t-0"
    log = Log.open(path, cfg())
    _scenario(log)
    expected = {s.base_offset: list(s.txn_index.entries) for s in log.segments()}
    # Only the last segment is rescanned; the open transactions at its start (pids 2 and 3,
    # and 1's second one is later) come from the snapshot taken when it was rolled.
    last = log.segments()[-1].base_offset
    log.close()
    os.unlink(path / f"{last:020d}.txnindex")
    reopened = Log.open(path, cfg(), recovery_point=last, high_watermark=15)
    assert {s.base_offset: s.txn_index.entries for s in reopened.segments()} == expected


def test_truncation_drops_entries_and_reopens_the_transaction(tmp_path):
    log = Log.open(tmp_path / "t-0", cfg())
    w = Writer(log)
    w.txn(1)                    # 0-1
    m = w.end(1, commit=False)  # 2
    w.plain()                   # 3
    advance(log)
    assert log.collect_aborted_transactions(0, 4)
    log.truncate_to(m)
    assert log.collect_aborted_transactions(0, 4) == []
    assert not os.path.exists(log.active_segment.txn_index.path)
    assert log.first_unstable_offset() == 0
    assert log.last_stable_offset == 0


def test_segment_deletion_takes_its_index(tmp_path):
    path = tmp_path / "t-0"
    log = Log.open(path, cfg(file_delete_delay_ms=0))
    w = Writer(log)
    w.txn(1)
    w.end(1, commit=False)
    log.roll()
    w.plain()
    advance(log)
    assert (path / "00000000000000000000.txnindex").exists()
    log.delete_records_before(3)
    log.apply_retention()
    assert not (path / "00000000000000000000.txnindex").exists()
    assert log.collect_aborted_transactions(3, 4) == []


def test_crash_copy_keeps_lso_consistent(tmp_path):
    """kill -9 equivalent: copy the directory without closing, reopen from scratch."""
    path = tmp_path / "t-0"
    log = Log.open(path, cfg())
    _scenario(log)
    log.flush()
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    reopened = Log.open(copy, cfg(), high_watermark=15)
    assert reopened.first_unstable_offset() == 13
    assert reopened.collect_aborted_transactions(0, 15) == log.collect_aborted_transactions(0, 15)


# --- compaction ----------------------------------------------------------------------------

def _records(log: Log) -> list[tuple[int, bytes | None, bytes | None]]:
    from protocol.records import decode_batch, iter_batches

    out = []
    for seg in log.segments():
        data = seg.read(0, seg.size)
        for pos, h in iter_batches(data):
            header, recs = decode_batch(data, pos)
            if header.is_control:
                out.append((header.base_offset, "COMMIT" if recs and recs[0].key[3] == 1 else "ABORT", None))
                continue
            out.extend((header.base_offset + r.offset_delta, r.key, r.value) for r in recs)
    return out


def test_cleaner_removes_aborted_records_and_retires_markers(tmp_path):
    from storage.cleaner import clean_log, plan_cleaning

    now = [10_000_000]
    log = Log.open(tmp_path / "t-0", cfg(cleanup_policy="compact", delete_retention_ms=1000,
                                         file_delete_delay_ms=0), clock=lambda: now[0])

    def keyed(items, pid=-1, seq=-1, txn=False):
        log.append(make_batch(items, timestamp=now[0], producer_id=pid, producer_epoch=0 if pid >= 0 else -1,
                              base_sequence=seq, attributes=TXN if txn else 0), leader_epoch=0)

    def marker(pid, commit):
        log.append_end_txn_marker(pid, 0, 0, commit, leader_epoch=0, timestamp=now[0])

    keyed([(b"k1", b"committed")], pid=1, seq=0, txn=True)   # 0
    marker(1, True)                                           # 1
    keyed([(b"k1", b"aborted")], pid=2, seq=0, txn=True)     # 2
    keyed([(b"k2", b"aborted")], pid=2, seq=1, txn=True)     # 3
    marker(2, False)                                          # 4
    keyed([(b"k2", b"plain")])                                # 5
    keyed([(b"k3", b"open")], pid=3, seq=0, txn=True)        # 6: still open
    log.roll()
    keyed([(b"k4", b"x")])                                    # 7
    log.roll()
    advance(log)
    assert log.first_unstable_offset() == 6
    # the open transaction is in the first segment: nothing may be cleaned
    assert plan_cleaning(log, now[0], allow_clean_only=True) is None
    marker(3, True)                                           # 8
    keyed([(b"k6", b"later")], pid=2, seq=2, txn=True)       # 9: pid 2's last batch is elsewhere
    marker(2, True)                                           # 10
    log.roll()
    keyed([(b"k5", b"y")])
    advance(log)

    assert clean_log(log, now[0], force=True) is not None
    recs = _records(log)
    assert (0, b"k1", b"committed") in recs
    assert all(v != b"aborted" for _o, _k, v in recs)
    assert (4, "ABORT", None) in recs  # kept: batches of its transaction were in this clean
    assert (1, "COMMIT", None) in recs
    assert (5, b"k2", b"plain") in recs
    cleaned = log.segments()[0]
    assert [t.producer_id for t in cleaned.txn_index.entries] == [2]

    # Second clean: nothing of the aborted transaction is left, so its marker gets a horizon.
    log.cleaner_checkpoint = None
    clean_log(log, now[0], force=True)
    assert (4, "ABORT", None) in _records(log)
    assert cleaned is not log.segments()[0]
    assert log.segments()[0].txn_index.entries == []
    now[0] += 2000
    log.cleaner_checkpoint = None
    clean_log(log, now[0], force=True)
    recs = _records(log)
    assert (4, "ABORT", None) not in recs
    assert (0, b"k1", b"committed") in recs


# --- property: a read_committed reader sees exactly the committed records --------------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_ops = st.lists(st.one_of(
    st.tuples(st.just("txn"), st.integers(1, 3), st.integers(1, 3)),
    st.tuples(st.just("plain"), st.integers(1, 2)),
    st.tuples(st.just("end"), st.integers(1, 3), st.booleans()),
    st.tuples(st.just("roll")),
), min_size=1, max_size=40)


def _read_committed(log: Log, upper: int) -> list[bytes]:
    """What Kafka's consumer delivers with read_committed, reading [0, upper)."""
    from protocol.records import decode_batch, iter_batches

    aborted = sorted(log.collect_aborted_transactions(0, upper), key=lambda t: t.first_offset)
    ongoing: set[int] = set()
    out = []
    for seg in log.segments():
        data = seg.read(0, seg.size)
        for pos, h in iter_batches(data):
            if h.base_offset >= upper:
                break
            header, recs = decode_batch(data, pos)
            if header.producer_id >= 0:
                while aborted and aborted[0].first_offset <= header.last_offset:
                    ongoing.add(aborted.pop(0).producer_id)
                if header.is_control:
                    if recs and recs[0].key[3] == 0:
                        ongoing.discard(header.producer_id)
                    continue
                if header.is_transactional and header.producer_id in ongoing:
                    continue
            out.extend(r.value for r in recs)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_ops)
def test_read_committed_sees_exactly_the_committed_records(tmp_path_factory, ops):
    path = tmp_path_factory.mktemp("prop") / "t-0"
    log = Log.open(path, cfg(segment_bytes=600))
    w = Writer(log)
    open_txn: dict[int, list[bytes]] = {}
    committed: list[tuple[int, bytes]] = []  # (offset, value) visible once the transaction commits
    counter = 0
    for op in ops:
        if op[0] == "txn":
            _, pid, n = op
            values = [b"v%d" % (counter + i) for i in range(n)]
            counter += n
            seq = w.seq.get(pid, 0)
            r = log.append(make_batch([(None, v) for v in values], producer_id=pid, producer_epoch=0,
                                      base_sequence=seq, attributes=TXN), leader_epoch=0)
            w.seq[pid] = seq + n
            open_txn.setdefault(pid, []).extend((r.first_offset + i, v) for i, v in enumerate(values))
        elif op[0] == "plain":
            values = [b"v%d" % (counter + i) for i in range(op[1])]
            counter += op[1]
            r = log.append(make_batch([(None, v) for v in values]), leader_epoch=0)
            committed.extend((r.first_offset + i, v) for i, v in enumerate(values))
        elif op[0] == "end":
            _, pid, commit = op
            w.end(pid, commit)
            records = open_txn.pop(pid, [])
            if commit:
                committed.extend(records)
        else:
            log.roll()
        advance(log)
        firsts = [recs[0][0] for recs in open_txn.values() if recs]
        lso = min(firsts) if firsts else log.high_watermark
        assert log.last_stable_offset == lso <= log.high_watermark
    expected = [v for off, v in sorted(committed) if off < lso]
    assert _read_committed(log, lso) == expected
    entries = {s.base_offset: list(s.txn_index.entries) for s in log.segments()}
    log.flush()
    log.close_without_flush()
    for name in os.listdir(path):
        if name.endswith(".txnindex"):
            os.unlink(path / name)
    reopened = Log.open(path, cfg(segment_bytes=600), recovery_point=0, high_watermark=log.high_watermark)
    assert {s.base_offset: s.txn_index.entries for s in reopened.segments()} == entries
    assert reopened.last_stable_offset == lso
    assert _read_committed(reopened, lso) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_ops, outcomes=st.lists(st.booleans(), min_size=3, max_size=3), cleans=st.integers(1, 3))
def test_compaction_keeps_the_committed_view(tmp_path_factory, ops, outcomes, cleans):
    """After cleaning (repeatedly, past delete horizons), the latest committed value of every
    key is what a read_committed reader sees, and aborted values never come back."""
    from protocol.records import decode_batch, iter_batches
    from storage.cleaner import clean_log

    now = [10_000_000]
    path = tmp_path_factory.mktemp("clean") / "t-0"
    log = Log.open(path, cfg(segment_bytes=600, cleanup_policy="compact", delete_retention_ms=100,
                             file_delete_delay_ms=0), clock=lambda: now[0])
    seqs: dict[int, int] = {}
    open_txn: dict[int, list[tuple[int, bytes, bytes]]] = {}
    committed: list[tuple[int, bytes, bytes]] = []
    counter = 0

    def end(pid: int, commit: bool) -> None:
        log.append_end_txn_marker(pid, 0, 0, commit, leader_epoch=0, timestamp=now[0])
        records = open_txn.pop(pid, [])
        if commit:
            committed.extend(records)

    for op in ops:
        if op[0] in ("txn", "plain"):
            pid = op[1] if op[0] == "txn" else -1
            n = op[2] if op[0] == "txn" else op[1]
            items = [(b"k%d" % ((counter + i) % 3), b"v%d" % (counter + i)) for i in range(n)]
            counter += n
            seq = seqs.get(pid, 0) if pid >= 0 else -1
            r = log.append(make_batch(items, timestamp=now[0], producer_id=pid, producer_epoch=0 if pid >= 0 else -1,
                                      base_sequence=seq, attributes=TXN if pid >= 0 else 0), leader_epoch=0)
            recs = [(r.first_offset + i, k, v) for i, (k, v) in enumerate(items)]
            if pid >= 0:
                seqs[pid] = seq + n
                open_txn.setdefault(pid, []).extend(recs)
            else:
                committed.extend(recs)
        elif op[0] == "end":
            end(op[1], op[2])
        else:
            log.roll()
    for pid in list(open_txn):
        end(pid, outcomes[pid - 1])
    log.roll()
    log.append(make_batch([(b"tail", b"x")], timestamp=now[0]), leader_epoch=0)
    advance(log)
    expected: dict[bytes, bytes] = {}
    for _off, k, v in sorted(committed):
        expected[k] = v
    expected[b"tail"] = b"x"
    for _ in range(cleans):
        log.cleaner_checkpoint = None
        clean_log(log, now[0], force=True)
        now[0] += 1000
    seen: dict[bytes, bytes] = {}
    aborted = sorted(log.collect_aborted_transactions(0, log.log_end_offset), key=lambda t: t.first_offset)
    ongoing: set[int] = set()
    for seg in log.segments():
        data = seg.read(0, seg.size)
        for pos, _h in iter_batches(data):
            header, recs = decode_batch(data, pos)
            if header.producer_id >= 0:
                while aborted and aborted[0].first_offset <= header.last_offset:
                    ongoing.add(aborted.pop(0).producer_id)
                if header.is_control:
                    if recs and recs[0].key[3] == 0:
                        ongoing.discard(header.producer_id)
                    continue
                if header.is_transactional and header.producer_id in ongoing:
                    continue
            for r in recs:
                seen[r.key] = r.value
    assert seen == expected
