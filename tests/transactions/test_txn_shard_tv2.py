"""The transaction coordinator shard with transaction version 2 (KIP-890 part 2), on a fake clock:
EndTxn bumping the epoch of every transaction, markers at the bumped epoch, Kafka's table of
retries and empty aborts, the pending completion answered before the producer check, epoch
exhaustion moving to a new producer id, fencing and timeouts bumping the epoch once
(KAFKA-19367), version 1 records, and replay giving the same state."""

from __future__ import annotations

import pytest

from protocol.errors import ErrorCode
from pybroker.producer_ids import ProducerIdError
from pybroker.transactions import records as rec
from pybroker.transactions.records import TxnState
from pybroker.transactions.shard import MAX_EPOCH, EndTxnResult, TransactionCoordinatorShard, WriteMarkers

from test_txn_shard import TID, Harness

E = ErrorCode
S = TxnState


class TV2Harness(Harness):
    """A shard on a cluster with transaction.version `tv`; producer ids from a counter."""

    def __init__(self, tv: int = 2, **cfg) -> None:
        super().__init__(**cfg)
        self.tv = tv
        self.alloc_fails = False
        self.shard = self._shard(7)

    def _shard(self, epoch: int) -> TransactionCoordinatorShard:
        return TransactionCoordinatorShard(3, self.config, coordinator_epoch=epoch,
                                           transaction_version=lambda: self.tv, new_producer_id=self._alloc)

    def _alloc(self) -> int:
        if self.alloc_fails:
            raise ProducerIdError(E.COORDINATOR_LOAD_IN_PROGRESS)
        self.next_pid += 1
        return self.next_pid

    def _v2(self, method: str, *args):
        token = object()
        fx = self.apply(getattr(self.shard, method)(*args, token, self.now, 2))
        [(t, response)] = fx.responses
        assert t is token
        return response

    def add2(self, pid, epoch, *tps, tid=TID):
        return self._v2("add_partitions", tid, pid, epoch, set(tps) or {("t", 0)})

    def end2(self, pid, epoch, commit, tid=TID) -> EndTxnResult:
        return self._v2("end_txn", tid, pid, epoch, commit)

    def reload(self) -> TransactionCoordinatorShard:
        fresh = self._shard(8)
        for i, r in enumerate(self.log):
            fresh.replay(i, r, -1, -1)
        return fresh


@pytest.fixture
def h() -> TV2Harness:
    return TV2Harness()


def test_every_end_txn_bumps_the_epoch_and_the_markers_carry_it(h):
    r = h.init()
    pid = r.producer_id
    assert h.add2(pid, 0, ("t", 0), ("t", 1)) == E.NONE
    assert h.meta().client_transaction_version == 2
    assert h.end2(pid, 0, True) == EndTxnResult(E.NONE, pid, 1)
    m = h.meta()
    assert (m.state, m.producer_epoch, m.last_producer_epoch) == (S.PREPARE_COMMIT, 1, 0)
    [action] = h.finish_markers()
    assert action == WriteMarkers(TID, pid, 1, 7, True, frozenset({("t", 0), ("t", 1)}), 2)
    assert (h.meta().state, h.meta().producer_epoch, h.meta().partitions) == (S.COMPLETE_COMMIT, 1, set())
    # the next transaction runs at the bumped epoch; the old one is fenced
    assert h.add2(pid, 0) == E.PRODUCER_FENCED
    assert h.add2(pid, 1, ("t", 1)) == E.NONE
    assert h.end2(pid, 1, False) == EndTxnResult(E.NONE, pid, 2)
    [action] = h.finish_markers()
    assert (action.producer_epoch, action.commit, action.partitions) == (2, False, frozenset({("t", 1)}))
    assert h.meta().state == S.COMPLETE_ABORT


def test_retries_and_empty_aborts_follow_kafkas_table(h):
    pid = h.init().producer_id
    # Empty: an abort at the current epoch bumps it (no partitions, no markers to write); a
    # commit is INVALID_TXN_STATE; an older epoch is fenced.
    assert h.end2(pid, 0, True) == EndTxnResult(E.INVALID_TXN_STATE)
    assert h.end2(pid, 0, False) == EndTxnResult(E.NONE, pid, 1)
    assert h.meta().state == S.PREPARE_ABORT and h.meta().start_ms == h.now
    # while the completion is pending: CONCURRENT_TRANSACTIONS, even for a retry
    assert h.end2(pid, 0, False) == EndTxnResult(E.CONCURRENT_TRANSACTIONS)
    [action] = h.finish_markers()
    assert action.partitions == frozenset()
    # CompleteAbort: the retry (epoch - 1) is answered with the current epoch, a commit retry
    # is INVALID_TXN_STATE, an abort at the current epoch is a new empty abort
    assert h.end2(pid, 0, False) == EndTxnResult(E.NONE, pid, 1)
    assert h.end2(pid, 0, True) == EndTxnResult(E.INVALID_TXN_STATE)
    assert h.end2(pid, 1, True) == EndTxnResult(E.INVALID_TXN_STATE)
    assert h.end2(pid, 1, False) == EndTxnResult(E.NONE, pid, 2)
    h.finish_markers()
    # CompleteCommit: the commit retry succeeds, an abort retry is INVALID_TXN_STATE
    assert h.add2(pid, 2) == E.NONE
    assert h.end2(pid, 2, True) == EndTxnResult(E.NONE, pid, 3)
    h.finish_markers()
    assert h.end2(pid, 2, True) == EndTxnResult(E.NONE, pid, 3)
    assert h.end2(pid, 2, False) == EndTxnResult(E.INVALID_TXN_STATE)
    assert h.end2(pid, 3, True) == EndTxnResult(E.INVALID_TXN_STATE)
    assert h.end2(pid, 1, True) == EndTxnResult(E.PRODUCER_FENCED)
    assert h.end2(pid, 4, True) == EndTxnResult(E.PRODUCER_FENCED)
    assert h.end2(pid + 1, 3, True) == EndTxnResult(E.INVALID_PRODUCER_ID_MAPPING)
    assert h.end2(pid, 3, False, tid="unknown") == EndTxnResult(E.INVALID_PRODUCER_ID_MAPPING)
    # Ongoing: only the current epoch
    assert h.add2(pid, 3) == E.NONE
    assert h.end2(pid, 2, True) == EndTxnResult(E.PRODUCER_FENCED)
    # Empty after InitProducerId: a retry of the last abort is fenced
    h.end2(pid, 3, False)
    h.finish_markers()
    r = h.init()
    assert h.end2(pid, r.producer_epoch - 1, False) == EndTxnResult(E.PRODUCER_FENCED)


def test_a_pending_completion_is_answered_before_the_producer_check(h):
    pid = h.init().producer_id
    h.add2(pid, 0)
    h.end2(pid, 0, True)
    # transaction version 2: retry later, whatever the id and epoch
    assert h.add2(pid + 7, 5) == E.CONCURRENT_TRANSACTIONS
    assert h.end2(pid + 7, 5, True) == EndTxnResult(E.INVALID_PRODUCER_ID_MAPPING)
    # transaction version 1 keeps its order: the producer first
    assert h.add(pid + 7, 5) == E.INVALID_PRODUCER_ID_MAPPING
    assert h.add(pid, 1) == E.CONCURRENT_TRANSACTIONS


def test_an_exhausted_epoch_moves_to_a_new_producer_id(h):
    pid = h.init().producer_id
    h.meta().producer_epoch = MAX_EPOCH - 1
    assert h.add2(pid, MAX_EPOCH - 1) == E.NONE
    new_pid = h.next_pid + 1
    assert h.end2(pid, MAX_EPOCH - 1, True) == EndTxnResult(E.NONE, new_pid, 0)
    m = h.meta()
    assert (m.producer_id, m.producer_epoch, m.next_producer_id) == (pid, MAX_EPOCH, new_pid)
    # the client starts at once with the new id: the pending completion answers its partitions
    # with a retry, not a fencing error (KAFKA-18660); EndTxn checks the producer id first
    assert h.add2(new_pid, 0) == E.CONCURRENT_TRANSACTIONS
    assert h.end2(new_pid, 0, False) == EndTxnResult(E.INVALID_PRODUCER_ID_MAPPING)
    [action] = h.finish_markers()
    assert (action.producer_id, action.producer_epoch) == (pid, MAX_EPOCH)
    m = h.meta()
    assert (m.state, m.producer_id, m.producer_epoch, m.previous_producer_id, m.last_producer_epoch,
            m.next_producer_id) == (S.COMPLETE_COMMIT, new_pid, 0, pid, MAX_EPOCH - 1, -1)
    # a retry of the overflowing commit gets the new id and epoch
    assert h.end2(pid, MAX_EPOCH - 1, True) == EndTxnResult(E.NONE, new_pid, 0)
    assert h.end2(pid, MAX_EPOCH - 1, False) == EndTxnResult(E.INVALID_TXN_STATE)
    assert h.add2(pid, MAX_EPOCH - 1) == E.INVALID_PRODUCER_ID_MAPPING
    assert h.add2(new_pid, 0) == E.NONE
    assert h.end2(new_pid, 0, True) == EndTxnResult(E.NONE, new_pid, 1)


def test_an_exhausted_epoch_without_a_producer_id_is_retriable(h):
    pid = h.init().producer_id
    h.meta().producer_epoch = MAX_EPOCH - 1
    h.add2(pid, MAX_EPOCH - 1)
    h.alloc_fails = True
    assert h.end2(pid, MAX_EPOCH - 1, True) == EndTxnResult(E.COORDINATOR_LOAD_IN_PROGRESS)
    assert h.meta().state == S.ONGOING
    h.alloc_fails = False
    assert h.end2(pid, MAX_EPOCH - 1, True).error == E.NONE


def test_init_producer_id_fences_an_ongoing_transaction_with_one_bump(h):
    pid = h.init().producer_id
    h.add2(pid, 0, ("t", 0))
    r = h.init()
    assert r.error == E.CONCURRENT_TRANSACTIONS
    m = h.meta()
    # KAFKA-19367: fence and abort bump the epoch once between them, not twice
    assert (m.state, m.producer_epoch, m.last_producer_epoch, m.client_transaction_version) == (
        S.PREPARE_ABORT, 1, 0, 2)
    [action] = h.finish_markers()
    assert (action.producer_epoch, action.commit, action.transaction_version) == (1, False, 2)
    assert h.meta().state == S.COMPLETE_ABORT
    r = h.init()
    assert (r.error, r.producer_id, r.producer_epoch) == (E.NONE, pid, 2)
    # the fenced producer: its retry of the abort is not a retry any more
    assert h.end2(pid, 0, False) == EndTxnResult(E.PRODUCER_FENCED)


def test_fencing_an_exhausted_epoch_rotates_the_producer_id(h):
    pid = h.init().producer_id
    h.meta().producer_epoch = MAX_EPOCH - 1
    h.add2(pid, MAX_EPOCH - 1)
    assert h.init().error == E.CONCURRENT_TRANSACTIONS
    m = h.meta()
    assert (m.producer_epoch, m.next_producer_id) == (MAX_EPOCH, h.next_pid)
    h.finish_markers()
    assert (h.meta().producer_id, h.meta().producer_epoch) == (h.next_pid, 0)
    r = h.init()
    assert (r.error, r.producer_id, r.producer_epoch) == (E.NONE, h.next_pid, 1)


def test_a_timed_out_transaction_is_aborted_with_one_bump(h):
    pid = h.init(timeout=5_000).producer_id
    h.add2(pid, 0)
    h.now += 6_000
    h.apply(h.shard.on_timer(("abort-timed-out-transactions",), h.now))
    m = h.meta()
    assert (m.state, m.producer_epoch, m.last_producer_epoch) == (S.PREPARE_ABORT, 1, 0)
    h.finish_markers()
    # the producer, back, aborts: one epoch behind, its abort is a retry of the completed one
    assert h.end2(pid, 0, False) == EndTxnResult(E.NONE, pid, 1)
    assert h.add2(pid, 1) == E.NONE


def test_transaction_version_1_clients_on_a_version_2_cluster(h):
    pid = h.init().producer_id
    assert h.add(pid, 0) == E.NONE
    assert h.meta().client_transaction_version == 0
    assert h.end(pid, 0, True) == E.NONE
    [action] = h.finish_markers()
    assert (action.producer_epoch, action.transaction_version) == (0, 0)
    assert (h.meta().state, h.meta().producer_epoch) == (S.COMPLETE_COMMIT, 0)


def test_records_are_version_1_from_transaction_version_1_and_replay_exactly(h):
    pid = h.init().producer_id
    value = h.log[-1].value
    assert value[:2] == b"\x00\x01"
    h.meta().producer_epoch = MAX_EPOCH - 1
    h.add2(pid, MAX_EPOCH - 1, ("t", 0))
    h.end2(pid, MAX_EPOCH - 1, True)
    _tid, prepared = rec.decode(h.log[-1])
    assert (prepared.client_transaction_version, prepared.next_producer_id, prepared.previous_producer_id) == (
        2, h.next_pid, -1)
    # a new leader loads the log in the middle of the completion and finishes it the same way
    fresh = h.reload()
    m = fresh.txns[TID]
    assert (m.state, m.producer_epoch, m.next_producer_id, m.client_transaction_version) == (
        S.PREPARE_COMMIT, MAX_EPOCH, h.next_pid, 2)
    fx = fresh.on_loaded(h.now)
    [action] = fx.actions
    assert (action.producer_epoch, action.coordinator_epoch, action.transaction_version) == (MAX_EPOCH, 8, 2)
    done = fresh.markers_written(action, h.now)
    for r in done.records:
        fresh.replay(99, r, -1, -1)
    m = fresh.txns[TID]
    assert (m.state, m.producer_id, m.producer_epoch) == (S.COMPLETE_COMMIT, h.next_pid, 0)
    _tid, completed = rec.decode(done.records[0])
    assert completed.previous_producer_id == pid


def test_version_0_records_below_transaction_version_1():
    h = TV2Harness(tv=0)
    h.init()
    assert h.log[-1].value[:2] == b"\x00\x00"
    h1 = TV2Harness(tv=1)
    pid = h1.init().producer_id
    assert h1.log[-1].value[:2] == b"\x00\x01"
    # transaction version 1 fences the classic way
    h1.add(pid, 0)
    h1.init()
    assert (h1.meta().producer_epoch, h1.meta().last_producer_epoch, h1.meta().client_transaction_version) == (
        1, -1, 0)
