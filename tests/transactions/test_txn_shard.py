"""The transaction coordinator shard on a fake clock: every state transition and error path of
InitProducerId, AddPartitionsToTxn, EndTxn and the timers, markers as actions, and replay of its
own log giving the same state (a restart or a new leader)."""

from __future__ import annotations

import re
import struct

import pytest

from protocol.errors import ErrorCode
from pybroker.coordinator.shard import Effects
from pybroker.transactions import records as rec
from pybroker.transactions.records import TxnRecord, TxnState
from pybroker.transactions.shard import (
    ABORT_TIMER, EXPIRE_TIMER, MAX_EPOCH, NEED_PRODUCER_ID, InitResult, TransactionCoordinatorShard,
    TxnConfig, WriteMarkers,
)

E = ErrorCode
S = TxnState
TID = "tx"


class Harness:
    """Drives one shard as the runtime would: records appended to a log and replayed, responses
    and actions collected, a clock the test moves."""

    def __init__(self, **cfg) -> None:
        self.config = TxnConfig(**{"max_timeout_ms": 60_000, "transactional_id_expiration_ms": 100_000,
                                   "abort_timed_out_interval_ms": 1_000,
                                   "remove_expired_interval_ms": 10_000, **cfg})
        self.shard = TransactionCoordinatorShard(3, self.config, coordinator_epoch=7)
        self.log: list = []
        self.now = 1_000_000
        self.actions: list = []
        self.timers: dict = {}
        self.next_pid = 1000

    def apply(self, fx: Effects) -> Effects:
        for r in fx.records:
            self.log.append(r)
            self.shard.replay(len(self.log) - 1, r, -1, -1)
        self.actions.extend(fx.actions)
        for key, deadline in fx.timers:
            self.timers[key] = deadline
        return fx

    def call(self, method: str, *args):
        token = object()
        fx = self.apply(getattr(self.shard, method)(*args, token, self.now))
        [(t, response)] = fx.responses
        assert t is token
        return response

    def init(self, timeout=10_000, pid=-1, epoch=-1, tid=TID) -> InitResult:
        result = self.call("init_producer_id", tid, timeout, pid, epoch, None)
        if result is NEED_PRODUCER_ID:
            self.next_pid += 1
            result = self.call("init_producer_id", tid, timeout, pid, epoch, self.next_pid)
        return result

    def add(self, pid, epoch, *tps, tid=TID):
        return self.call("add_partitions", tid, pid, epoch, set(tps) or {("t", 0)})

    def end(self, pid, epoch, commit, tid=TID):
        return self.call("end_txn", tid, pid, epoch, commit)

    def finish_markers(self):
        """Deliver every pending WriteMarkers action (all markers written)."""
        actions, self.actions = self.actions, []
        for a in actions:
            self.apply(self.shard.markers_written(a, self.now))
        return actions

    def meta(self, tid=TID):
        return self.shard.txns[tid]

    def reload(self) -> TransactionCoordinatorShard:
        """A new shard replaying the whole log (restart / leader change)."""
        fresh = TransactionCoordinatorShard(3, self.config, coordinator_epoch=8)
        for i, r in enumerate(self.log):
            fresh.replay(i, r, -1, -1)
        return fresh


def same_state(a: TransactionCoordinatorShard, b: TransactionCoordinatorShard) -> None:
    assert a.txns.keys() == b.txns.keys()
    for tid, m in a.txns.items():
        n = b.txns[tid]
        for f in ("producer_id", "producer_epoch", "timeout_ms", "state", "partitions", "start_ms",
                  "last_update_ms"):
            assert getattr(m, f) == getattr(n, f), (tid, f)


@pytest.fixture
def h() -> Harness:
    return Harness()


# --- records ----------------------------------------------------------------------------------

def test_record_bytes_are_kafkas():
    r = rec.encode("tx", TxnRecord(5, 2, 60000, S.ONGOING, {("a", 1), ("a", 0)}, 100, 90))
    assert r.key == struct.pack(">hh", 0, 2) + b"tx"
    expected = (struct.pack(">hqhib", 0, 5, 2, 60000, 1)
                + struct.pack(">i", 1) + struct.pack(">h", 1) + b"a" + struct.pack(">iii", 2, 0, 1)
                + struct.pack(">qq", 100, 90))
    assert r.value == expected
    empty = rec.encode("tx", TxnRecord(5, 3, 60000, S.EMPTY, set(), 100, -1))
    assert empty.value == struct.pack(">hqhibiqq", 0, 5, 3, 60000, 0, -1, 100, -1)  # null partitions
    assert rec.encode("tx", None).value is None
    assert rec.decode(r) == ("tx", TxnRecord(5, 2, 60000, S.ONGOING, {("a", 1), ("a", 0)}, 100, 90))


def test_reads_flexible_version_1_with_tagged_fields():
    # Version 1 (written by Kafka with transaction.version 2): compact strings and arrays, and
    # previousProducerId (tag 0) and clientTransactionVersion (tag 2) as tagged fields.
    value = (struct.pack(">hqhib", 1, 9, 4, 1000, 4) + b"\x01"  # empty compact array
             + struct.pack(">qq", 7, 6) + b"\x02" + b"\x00\x08" + struct.pack(">q", 8)
             + b"\x02\x02" + struct.pack(">h", 2))
    tid, r = rec.decode(rec.CoordinatorRecord(rec.key_bytes("t"), value))
    assert (tid, r.producer_id, r.producer_epoch, r.state, r.previous_producer_id, r.client_transaction_version) \
        == ("t", 9, 4, S.COMPLETE_COMMIT, 8, 2)


# --- InitProducerId ---------------------------------------------------------------------------

def test_first_init_allocates_a_producer_id(h):
    token = object()
    fx = h.shard.init_producer_id(TID, 10_000, -1, -1, None, token, h.now)
    assert fx.responses == [(token, NEED_PRODUCER_ID)] and not fx.records
    r = h.init()
    assert r == InitResult(E.NONE, 1001, 0)
    m = h.meta()
    assert (m.state, m.producer_epoch, m.timeout_ms, m.partitions) == (S.EMPTY, 0, 10_000, set())
    assert h.init() == InitResult(E.NONE, 1001, 1)  # re-init bumps the epoch


@pytest.mark.parametrize("timeout", [0, -5, 60_001])
def test_invalid_transaction_timeout(h, timeout):
    assert h.init(timeout=timeout).error == E.INVALID_TRANSACTION_TIMEOUT
    assert TID not in h.shard.txns


def test_kip360_resume_with_current_id_and_epoch(h):
    r = h.init()
    again = h.init(pid=r.producer_id, epoch=r.producer_epoch)
    assert again == InitResult(E.NONE, r.producer_id, 1)
    # a retry of that call (the response was lost) gets the same epoch back
    assert h.init(pid=r.producer_id, epoch=0) == InitResult(E.NONE, r.producer_id, 1)
    # another producer id, or an epoch neither current nor previous, is fenced
    assert h.init(pid=r.producer_id + 50, epoch=1).error == E.PRODUCER_FENCED
    h.init()  # a new producer instance: the last epoch is forgotten
    assert h.init(pid=r.producer_id, epoch=1).error == E.PRODUCER_FENCED


def test_kip360_on_a_new_transactional_id_accepts_any_expected_id(h):
    assert h.init(pid=77, epoch=3) == InitResult(E.NONE, 1001, 0)


def test_epoch_exhaustion_rotates_the_producer_id(h):
    r = h.init()
    m = h.meta()
    m.producer_epoch = MAX_EPOCH - 1
    rotated = h.init()
    assert rotated == InitResult(E.NONE, r.producer_id + 1, 0)
    assert h.meta().previous_producer_id == r.producer_id
    # With the old id and exhausted epoch presented (a retry of a rotation), no new fence.
    m = h.meta()
    m.producer_epoch = MAX_EPOCH - 1
    rot2 = h.init(pid=m.producer_id, epoch=MAX_EPOCH - 1)
    assert rot2.producer_epoch == 0 and rot2.producer_id == r.producer_id + 2
    assert h.init(pid=r.producer_id + 1, epoch=MAX_EPOCH - 1) == rot2  # previous id + exhausted epoch


def test_init_while_ongoing_fences_and_aborts(h):
    r = h.init()
    pid = r.producer_id
    assert h.add(pid, 0, ("t", 0), ("t", 1)) == E.NONE
    assert h.init() == InitResult(E.CONCURRENT_TRANSACTIONS)
    m = h.meta()
    assert (m.state, m.producer_epoch) == (S.PREPARE_ABORT, 1)
    [action] = h.actions
    assert action == WriteMarkers(TID, pid, 1, 7, False, frozenset({("t", 0), ("t", 1)}))
    # while the markers are written, everything waits
    assert h.init() == InitResult(E.CONCURRENT_TRANSACTIONS)
    assert h.end(pid, 0, True) == E.PRODUCER_FENCED  # the zombie
    assert h.add(pid, 0) == E.PRODUCER_FENCED
    h.finish_markers()
    assert h.meta().state == S.COMPLETE_ABORT
    assert h.init() == InitResult(E.NONE, pid, 2)  # bumped a second time


# --- AddPartitionsToTxn -----------------------------------------------------------------------

def test_add_partitions(h):
    r = h.init()
    pid = r.producer_id
    assert h.add(pid, 0, ("t", 0)) == E.NONE
    m = h.meta()
    assert (m.state, m.partitions, m.start_ms) == (S.ONGOING, {("t", 0)}, h.now)
    n = len(h.log)
    h.now += 10
    assert h.add(pid, 0, ("t", 0)) == E.NONE and len(h.log) == n  # already there: nothing written
    assert h.add(pid, 0, ("u", 3)) == E.NONE
    assert h.meta().partitions == {("t", 0), ("u", 3)} and h.meta().start_ms == h.now - 10


def test_add_partitions_errors(h):
    assert h.add(5, 0) == E.INVALID_PRODUCER_ID_MAPPING  # unknown transactional id
    r = h.init()
    assert h.add(r.producer_id + 1, 0) == E.INVALID_PRODUCER_ID_MAPPING
    assert h.add(r.producer_id, 1) == E.PRODUCER_FENCED
    h.add(r.producer_id, 0)
    h.end(r.producer_id, 0, True)
    assert h.add(r.producer_id, 0) == E.CONCURRENT_TRANSACTIONS


def test_verify(h):
    r = h.init()
    pid = r.producer_id
    h.add(pid, 0, ("t", 0))
    assert h.shard.verify(TID, pid, 0, {("t", 0), ("t", 1)}) == {("t", 0): E.NONE, ("t", 1): E.TRANSACTION_ABORTABLE}
    assert h.shard.verify(TID, pid, 1, {("t", 0)}) == E.PRODUCER_FENCED
    assert h.shard.verify(TID, pid + 1, 0, {("t", 0)}) == E.INVALID_PRODUCER_ID_MAPPING
    assert h.shard.verify("other", pid, 0, {("t", 0)}) == E.INVALID_PRODUCER_ID_MAPPING
    h.end(pid, 0, True)
    assert h.shard.verify(TID, pid, 0, {("t", 0)}) == E.CONCURRENT_TRANSACTIONS
    h.finish_markers()
    assert h.shard.verify(TID, pid, 0, {("t", 0)}) == {("t", 0): E.TRANSACTION_ABORTABLE}


# --- EndTxn -----------------------------------------------------------------------------------

@pytest.mark.parametrize("commit", [True, False])
def test_end_txn_prepares_then_completes(h, commit):
    r = h.init()
    pid = r.producer_id
    h.add(pid, 0, ("t", 0), ("__consumer_offsets", 4))
    assert h.end(pid, 0, commit) == E.NONE
    prepare = S.PREPARE_COMMIT if commit else S.PREPARE_ABORT
    assert h.meta().state == prepare
    [action] = h.actions
    assert action.commit == commit and action.partitions == {("t", 0), ("__consumer_offsets", 4)}
    assert action.coordinator_epoch == 7 and action.producer_epoch == 0
    assert h.end(pid, 0, commit) == E.CONCURRENT_TRANSACTIONS   # retried while markers are written
    assert h.end(pid, 0, not commit) == E.CONCURRENT_TRANSACTIONS
    h.finish_markers()
    m = h.meta()
    assert (m.state, m.partitions) == (S.COMPLETE_COMMIT if commit else S.COMPLETE_ABORT, set())
    assert h.end(pid, 0, commit) == E.NONE               # a retry after completion
    assert h.end(pid, 0, not commit) == E.INVALID_TXN_STATE
    # the next transaction starts from the completed state
    assert h.add(pid, 0, ("t", 1)) == E.NONE and h.meta().state == S.ONGOING


def test_end_txn_errors(h):
    assert h.end(1, 0, True) == E.INVALID_PRODUCER_ID_MAPPING
    r = h.init()
    assert h.end(r.producer_id, 0, True) == E.INVALID_TXN_STATE  # Empty: nothing to end
    assert h.end(r.producer_id, 0, False) == E.INVALID_TXN_STATE
    assert h.end(r.producer_id + 1, 0, True) == E.INVALID_PRODUCER_ID_MAPPING
    assert h.end(r.producer_id, 3, True) == E.PRODUCER_FENCED


def test_stale_markers_do_not_complete_a_newer_transaction(h):
    r = h.init()
    h.add(r.producer_id, 0)
    h.end(r.producer_id, 0, True)
    [action] = h.actions
    h.actions = []
    h.apply(h.shard.markers_written(action, h.now))
    h.add(r.producer_id, 0)
    h.end(r.producer_id, 0, False)
    n = len(h.log)
    h.apply(h.shard.markers_written(action, h.now))  # a duplicate of the old completion
    assert len(h.log) == n and h.meta().state == S.PREPARE_ABORT


# --- timers ---------------------------------------------------------------------------------------

def test_timed_out_transaction_is_aborted_with_a_fence(h):
    r = h.init(timeout=5_000)
    fx = h.apply(h.shard.on_loaded(h.now))
    assert h.timers == {ABORT_TIMER: h.now + 1_000, EXPIRE_TIMER: h.now + 10_000}
    assert not fx.actions
    h.add(r.producer_id, 0, ("t", 0))
    h.now += 5_000
    h.apply(h.shard.on_timer(ABORT_TIMER, h.now))
    assert h.meta().state == S.ONGOING  # exactly the timeout: not yet
    h.now += 1
    h.apply(h.shard.on_timer(ABORT_TIMER, h.now))
    m = h.meta()
    assert (m.state, m.producer_epoch) == (S.PREPARE_ABORT, 1)
    assert h.timers[ABORT_TIMER] == h.now + 1_000
    [action] = h.actions
    assert not action.commit and action.producer_epoch == 1
    h.finish_markers()
    assert h.meta().state == S.COMPLETE_ABORT
    # the old producer learns it was fenced
    assert h.end(r.producer_id, 0, True) == E.PRODUCER_FENCED
    assert h.init() == InitResult(E.NONE, r.producer_id, 2)


def test_transactional_ids_expire(h):
    r = h.init()
    h.init(tid="busy")
    h.add(r.producer_id + 1, 0, tid="busy")
    h.now += 100_001
    h.apply(h.shard.on_timer(EXPIRE_TIMER, h.now))
    assert TID not in h.shard.txns and "busy" in h.shard.txns
    assert h.log[-1].value is None
    assert h.timers[EXPIRE_TIMER] == h.now + 10_000
    assert TID not in h.reload().txns


def test_loading_resends_markers_of_prepared_transactions(h):
    r = h.init()
    h.add(r.producer_id, 0, ("t", 0))
    h.end(r.producer_id, 0, True)
    fresh = h.reload()
    fx = fresh.on_loaded(h.now)
    [action] = fx.actions
    assert action == WriteMarkers(TID, r.producer_id, 0, 8, True, frozenset({("t", 0)}))


# --- replay ---------------------------------------------------------------------------------------

def test_replay_rebuilds_the_same_state(h):
    a = h.init(tid="a")
    b = h.init(tid="b")
    c = h.init(tid="c")
    h.add(a.producer_id, 0, ("t", 0), tid="a")
    h.add(b.producer_id, 0, ("t", 1), ("u", 2), tid="b")
    h.end(b.producer_id, 0, False, tid="b")
    h.finish_markers()
    h.add(c.producer_id, 0, ("t", 3), tid="c")
    h.end(c.producer_id, 0, True, tid="c")
    h.init(tid="d")
    same_state(h.shard, h.reload())
    assert h.reload().txns["c"].state == S.PREPARE_COMMIT


# --- admin ------------------------------------------------------------------------------------------

def test_describe_and_list(h):
    a = h.init(tid="app-a")
    h.now += 1000
    h.add(a.producer_id, 0, ("t", 0), tid="app-a")
    b = h.init(tid="app-b")
    h.init(tid="other")
    d = h.shard.describe("app-a")
    assert (d.error, d.state, d.producer_id, d.partitions, d.start_ms) == (E.NONE, "Ongoing", a.producer_id,
                                                                           (("t", 0),), h.now)
    assert h.shard.describe("nope").error == E.TRANSACTIONAL_ID_NOT_FOUND

    def names(states=(), pids=(), duration=-1, pattern=None):
        return sorted(t for t, _p, _s in h.shard.list_transactions(
            set(states), set(pids), duration, re.compile(pattern) if pattern else None, h.now))

    assert names() == ["app-a", "app-b", "other"]
    assert names(states=[S.ONGOING]) == ["app-a"]
    assert names(states=[S.EMPTY]) == ["app-b", "other"]
    assert names(pids=[b.producer_id]) == ["app-b"]
    assert names(pattern="app-.*") == ["app-a", "app-b"]
    assert names(pattern="app") == []  # the whole id must match
    h.now += 500
    assert names(states=[S.ONGOING], duration=400) == ["app-a"]
    assert names(states=[S.ONGOING], duration=600) == []
