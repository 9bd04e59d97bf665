"""The transaction coordinator shard: the state machine of one `__transaction_state` partition.

It follows Kafka's TransactionCoordinator. Requests of transaction version 1 clients (EndTxn up
to v4, AddPartitionsToTxn up to v3, AddOffsetsToTxn) keep the classic rules: the epoch is bumped
by InitProducerId and by fencing, not by EndTxn. Transaction version 2 (KIP-890 part 2, when the
cluster finalizes transaction.version 2 and the client speaks EndTxn v5 / Produce v12 /
TxnOffsetCommit v5) bumps the epoch on every EndTxn, rotating to a new producer id when the
epoch is exhausted, and its partitions are added by the brokers the client writes to. A
transactional id moves through Kafka's states:

    Empty --AddPartitions/AddOffsets--> Ongoing --EndTxn--> PrepareCommit | PrepareAbort
    PrepareCommit/PrepareAbort --markers written--> CompleteCommit | CompleteAbort
    Empty/Complete* --InitProducerId--> Empty (epoch + 1; a new producer id once exhausted)
    Ongoing --InitProducerId or timeout--> PrepareAbort at epoch + 1 (the epoch fence)
    Empty/Complete* --transactional.id.expiration.ms--> tombstone (Kafka's Dead)

State changes only by replaying records (TransactionLogValue), so a restart or a new leader
rebuilds exactly the state that was committed. PrepareEpochFence never reaches the log: the
fence is written as the PrepareAbort carrying the bumped epoch, as Kafka writes it. A Prepare*
state means markers are being written: requests meanwhile get CONCURRENT_TRANSACTIONS (Kafka's
pending transition), and a newly loaded shard writes the markers again.

Operations take `now_ms` from the runtime (an injectable clock) and return Effects: records,
responses, timers, and WriteMarkers actions that the runtime hands to the marker writer once
the Prepare* record is committed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Hashable

from protocol.errors import DecodeError, ErrorCode
from pybroker.coordinator.shard import CoordinatorRecord, Effects, TxnMarker
from pybroker.producer_ids import ProducerIdError
from pybroker.transactions import records as rec
from pybroker.transactions.records import TxnRecord, TxnState

log = logging.getLogger("pybroker.transactions")

NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
MAX_EPOCH = (1 << 15) - 1
TV_2 = 2  # the transaction.version level of KIP-890 part 2

ABORT_TIMER = ("abort-timed-out-transactions",)
EXPIRE_TIMER = ("expire-transactional-ids",)

# A producer id must be allocated (asynchronously, from the controller's blocks) before the
# operation can proceed; the caller allocates one and calls again with it.
NEED_PRODUCER_ID = object()

_COMPLETE = (TxnState.COMPLETE_COMMIT, TxnState.COMPLETE_ABORT)
_PREPARE = (TxnState.PREPARE_COMMIT, TxnState.PREPARE_ABORT)


def epoch_exhausted(epoch: int) -> bool:
    """Kafka keeps Short.MaxValue free so that a fence can always bump the epoch."""
    return epoch >= MAX_EPOCH - 1


@dataclass(slots=True)
class TxnConfig:
    """The broker configs the transaction coordinator obeys."""

    max_timeout_ms: int = 900_000
    transactional_id_expiration_ms: int = 604_800_000
    abort_timed_out_interval_ms: int = 10_000
    remove_expired_interval_ms: int = 3_600_000

    @classmethod
    def from_broker(cls, config: Any) -> "TxnConfig":
        return cls(
            max_timeout_ms=config.get("transaction.max.timeout.ms"),
            transactional_id_expiration_ms=config.get("transactional.id.expiration.ms"),
            abort_timed_out_interval_ms=config.get("transaction.abort.timed.out.transaction.cleanup.interval.ms"),
            remove_expired_interval_ms=config.get("transaction.remove.expired.transaction.cleanup.interval.ms"),
        )


@dataclass(slots=True)
class TxnMetadata:
    """What the coordinator knows of one transactional id."""

    transactional_id: str
    producer_id: int
    producer_epoch: int = NO_PRODUCER_EPOCH
    # The epoch before the last InitProducerId bump: a retried InitProducerId that presents it
    # gets the current epoch back. Not stored in the log (Kafka does not store it either).
    last_producer_epoch: int = NO_PRODUCER_EPOCH
    previous_producer_id: int = NO_PRODUCER_ID
    timeout_ms: int = 60_000
    state: TxnState = TxnState.EMPTY
    partitions: set[tuple[str, int]] = field(default_factory=set)
    start_ms: int = -1
    last_update_ms: int = -1
    # The transaction version of the client's last transition (Kafka's clientTransactionVersion),
    # and the producer id a transaction version 2 completion moves to once the epoch is exhausted.
    client_transaction_version: int = 0
    next_producer_id: int = NO_PRODUCER_ID

    def to_record(self) -> TxnRecord:
        return TxnRecord(
            producer_id=self.producer_id, producer_epoch=self.producer_epoch,
            timeout_ms=self.timeout_ms, state=self.state,
            partitions=set(self.partitions) if self.state != TxnState.EMPTY else set(),
            last_update_ms=self.last_update_ms, start_ms=self.start_ms,
            previous_producer_id=self.previous_producer_id,
            next_producer_id=self.next_producer_id,
            client_transaction_version=self.client_transaction_version,
        )


@dataclass(frozen=True, slots=True)
class WriteMarkers:
    """An action: write COMMIT/ABORT markers for a transaction to its partitions, then tell
    the shard (markers_written)."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    coordinator_epoch: int
    commit: bool
    partitions: frozenset[tuple[str, int]]
    transaction_version: int = 0  # of the transaction, as WriteTxnMarkers v2 carries it


@dataclass(frozen=True, slots=True)
class EndTxnResult:
    """EndTxn's answer at transaction version 2: the producer id and epoch the client goes on
    with (the bumped epoch, or a new producer id at epoch 0), -1 with an error."""

    error: int
    producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH


@dataclass(frozen=True, slots=True)
class InitResult:
    error: int
    producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH


@dataclass(frozen=True, slots=True)
class TxnDescription:
    """DescribeTransactions' view of one transactional id."""

    error: int
    transactional_id: str
    state: str = ""
    timeout_ms: int = 0
    start_ms: int = -1
    producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH
    partitions: tuple[tuple[str, int], ...] = ()


class TransactionCoordinatorShard:
    """Transactional ids of one `__transaction_state` partition."""

    def __init__(self, partition: int, config: TxnConfig, coordinator_epoch: int, *,
                 transaction_version: Callable[[], int] | None = None,
                 new_producer_id: Callable[[], int] | None = None) -> None:
        self.partition = partition
        self.config = config
        self.coordinator_epoch = coordinator_epoch
        # The cluster's finalized transaction.version: which records are written (version 1 from
        # level 1) and how the coordinator aborts on its own (fencing, timeouts) from level 2.
        self.transaction_version = transaction_version or (lambda: 0)
        # A producer id now, or ProducerIdError (Kafka's generateProducerId, which does not wait).
        self.new_producer_id = new_producer_id
        self.txns: dict[str, TxnMetadata] = {}
        # Metadata this shard just wrote, by record bytes: replaying its own record keeps the
        # fields the log does not carry (the last producer epoch).
        self._own: dict[tuple[bytes, bytes | None], TxnMetadata] = {}
        self.loaded = False

    # -- CoordinatorShard --------------------------------------------------------------------

    def replay(self, offset: int, record: CoordinatorRecord | TxnMarker, producer_id: int,
               producer_epoch: int) -> None:
        if isinstance(record, TxnMarker):
            return
        own = self._own.pop((record.key, record.value), None)
        try:
            txn_id, value = rec.decode(record)
        except DecodeError as exc:
            log.warning("__transaction_state-%d: skipping record at %d: %s", self.partition, offset, exc)
            return
        if value is None:
            self.txns.pop(txn_id, None)
            return
        if own is not None:
            self.txns[txn_id] = own
            return
        old = self.txns.get(txn_id)
        self.txns[txn_id] = TxnMetadata(
            transactional_id=txn_id, producer_id=value.producer_id,
            producer_epoch=value.producer_epoch, last_producer_epoch=NO_PRODUCER_EPOCH,
            previous_producer_id=value.previous_producer_id if value.previous_producer_id >= 0
            else (old.producer_id if old is not None and old.producer_id != value.producer_id else NO_PRODUCER_ID),
            timeout_ms=value.timeout_ms, state=value.state, partitions=set(value.partitions),
            start_ms=value.start_ms, last_update_ms=value.last_update_ms,
            client_transaction_version=value.client_transaction_version,
            next_producer_id=value.next_producer_id,
        )

    def on_loaded(self, now_ms: int) -> Effects:
        """Arm the periodic timers and finish the transactions whose markers were being written
        when the previous leader stopped."""
        self.loaded = True
        fx = Effects(timers=[
            (ABORT_TIMER, now_ms + self.config.abort_timed_out_interval_ms),
            (EXPIRE_TIMER, now_ms + self.config.remove_expired_interval_ms),
        ])
        for meta in self.txns.values():
            if meta.state in _PREPARE:
                fx.actions.append(self._markers(meta))
        return fx

    def on_timer(self, key: Hashable, now_ms: int) -> Effects:
        if key == ABORT_TIMER:
            fx = self.abort_timed_out(now_ms)
            fx.timers.append((ABORT_TIMER, now_ms + self.config.abort_timed_out_interval_ms))
            return fx
        if key == EXPIRE_TIMER:
            fx = self.expire_transactional_ids(now_ms)
            fx.timers.append((EXPIRE_TIMER, now_ms + self.config.remove_expired_interval_ms))
            return fx
        return Effects()

    def on_unloaded(self) -> Effects:
        self.loaded = False
        return Effects()

    # -- helpers -----------------------------------------------------------------------------

    def _write(self, fx: Effects, meta: TxnMetadata) -> None:
        """Append the record of `meta` (which becomes the state once replayed)."""
        version = 1 if self.transaction_version() >= 1 else 0
        record = rec.encode(meta.transactional_id, meta.to_record(), version)
        if len(self._own) > 10_000:
            self._own.clear()  # records of failed appends are never replayed: do not hoard them
        self._own[(record.key, record.value)] = meta
        fx.records.append(record)

    def _markers(self, meta: TxnMetadata) -> WriteMarkers:
        return WriteMarkers(meta.transactional_id, meta.producer_id, meta.producer_epoch,
                            self.coordinator_epoch, meta.state == TxnState.PREPARE_COMMIT,
                            frozenset(meta.partitions), meta.client_transaction_version)

    def _allocate_producer_id(self) -> int:
        if self.new_producer_id is None:
            raise ProducerIdError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
        return self.new_producer_id()

    def _fence_and_abort(self, fx: Effects, meta: TxnMetadata, now_ms: int) -> int:
        """Kafka's epoch fence: bump the epoch (never past Short.MaxValue) and abort the
        ongoing transaction with it, so that the old producer's writes and markers lose.
        Aborts the coordinator starts follow the cluster's transaction.version, as Kafka's do.
        Returns NONE, or the error of a producer id that could not be allocated."""
        if self.transaction_version() >= TV_2:
            return self._fence_and_abort_v2(fx, meta, now_ms)
        bumped = meta.producer_epoch if meta.producer_epoch >= MAX_EPOCH else meta.producer_epoch + 1
        new = replace(meta, producer_epoch=bumped, last_producer_epoch=NO_PRODUCER_EPOCH,
                      state=TxnState.PREPARE_ABORT, partitions=set(meta.partitions),
                      last_update_ms=now_ms, client_transaction_version=0, next_producer_id=NO_PRODUCER_ID)
        self._write(fx, new)
        fx.actions.append(self._markers(new))
        return ErrorCode.NONE

    def _fence_and_abort_v2(self, fx: Effects, meta: TxnMetadata, now_ms: int) -> int:
        """The fence with transaction version 2: the abort itself bumps the epoch, so fence and
        abort bump it once between them (KAFKA-19367), and an exhausted epoch moves on to a new
        producer id when the abort completes (KAFKA-20090) rather than overflowing later."""
        if meta.producer_epoch >= MAX_EPOCH:
            # Never reached with version 2 (the epoch rotates first); keep the classic fence.
            bumped, next_pid = meta.producer_epoch, NO_PRODUCER_ID
        else:
            bumped, next_pid = meta.producer_epoch + 1, NO_PRODUCER_ID
            if epoch_exhausted(meta.producer_epoch):
                try:
                    next_pid = self._allocate_producer_id()
                except ProducerIdError as exc:
                    return exc.code
        new = replace(meta, producer_epoch=bumped, last_producer_epoch=meta.producer_epoch,
                      previous_producer_id=meta.producer_id, next_producer_id=next_pid,
                      state=TxnState.PREPARE_ABORT, partitions=set(meta.partitions),
                      client_transaction_version=TV_2, last_update_ms=now_ms)
        self._write(fx, new)
        fx.actions.append(self._markers(new))
        return ErrorCode.NONE

    def validate_timeout(self, timeout_ms: int) -> bool:
        return 0 < timeout_ms <= self.config.max_timeout_ms

    # -- InitProducerId ----------------------------------------------------------------------

    def init_producer_id(self, transactional_id: str, timeout_ms: int, expected_producer_id: int,
                         expected_epoch: int, new_producer_id: int | None, token: Any,
                         now_ms: int) -> Effects:
        """InitProducerId with a transactional id. `expected_*` are -1 unless the producer
        presents its current id and epoch (KIP-360). The response is an InitResult, or
        NEED_PRODUCER_ID when a fresh producer id is required and `new_producer_id` is None."""
        fx = Effects()
        if not self.validate_timeout(timeout_ms):
            return fx.respond(token, InitResult(ErrorCode.INVALID_TRANSACTION_TIMEOUT))
        expected = expected_producer_id >= 0
        meta = self.txns.get(transactional_id)
        if meta is not None and meta.state in _PREPARE:
            # Markers are being written (Kafka's pending transition): retry later.
            return fx.respond(token, InitResult(ErrorCode.CONCURRENT_TRANSACTIONS))
        if meta is None:
            if new_producer_id is None:
                return fx.respond(token, NEED_PRODUCER_ID)
            meta = TxnMetadata(transactional_id, new_producer_id, timeout_ms=timeout_ms,
                               last_update_ms=now_ms)
            new_producer_id = None
        if expected and not (
            meta.producer_epoch == NO_PRODUCER_EPOCH
            or expected_producer_id == meta.producer_id
            or (expected_producer_id == meta.previous_producer_id and epoch_exhausted(expected_epoch))
        ):
            return fx.respond(token, InitResult(ErrorCode.PRODUCER_FENCED))
        state = meta.state
        if state == TxnState.ONGOING:
            # Abort the ongoing transaction with a fenced epoch; the producer retries and then
            # gets an epoch bumped once more (or a new producer id if that one is exhausted).
            code = self._fence_and_abort(fx, meta, now_ms)
            return fx.respond(token, InitResult(code if code != ErrorCode.NONE else ErrorCode.CONCURRENT_TRANSACTIONS))
        if state not in (TxnState.EMPTY, *_COMPLETE):
            return fx.respond(token, InitResult(ErrorCode.UNKNOWN_SERVER_ERROR))
        if epoch_exhausted(meta.producer_epoch) and (not expected or expected_epoch == meta.producer_epoch):
            if new_producer_id is None:
                return fx.respond(token, NEED_PRODUCER_ID)
            new = replace(meta, producer_id=new_producer_id, previous_producer_id=meta.producer_id,
                          producer_epoch=0,
                          last_producer_epoch=meta.producer_epoch if expected else NO_PRODUCER_EPOCH,
                          timeout_ms=timeout_ms, state=TxnState.EMPTY, partitions=set(),
                          start_ms=-1, last_update_ms=now_ms)
        else:
            if not expected:
                epoch, last = meta.producer_epoch + 1, NO_PRODUCER_EPOCH
            elif meta.producer_epoch == NO_PRODUCER_EPOCH or expected_epoch == meta.producer_epoch:
                epoch, last = meta.producer_epoch + 1, meta.producer_epoch
            elif expected_epoch == meta.last_producer_epoch:
                epoch, last = meta.producer_epoch, meta.last_producer_epoch  # a retry
            else:
                return fx.respond(token, InitResult(ErrorCode.PRODUCER_FENCED))
            new = replace(meta, producer_epoch=epoch, last_producer_epoch=last, timeout_ms=timeout_ms,
                          state=TxnState.EMPTY, partitions=set(), start_ms=-1, last_update_ms=now_ms)
        self._write(fx, new)
        return fx.respond(token, InitResult(ErrorCode.NONE, new.producer_id, new.producer_epoch))

    # -- AddPartitionsToTxn / AddOffsetsToTxn ------------------------------------------------

    def _check_producer(self, meta: TxnMetadata | None, producer_id: int, producer_epoch: int) -> int:
        if meta is None or meta.producer_id != producer_id:
            return ErrorCode.INVALID_PRODUCER_ID_MAPPING
        if meta.producer_epoch != producer_epoch:
            return ErrorCode.PRODUCER_FENCED
        return ErrorCode.NONE

    def add_partitions(self, transactional_id: str, producer_id: int, producer_epoch: int,
                       partitions: set[tuple[str, int]], token: Any, now_ms: int,
                       client_transaction_version: int = 0) -> Effects:
        """Add partitions to the transaction (starting it); the response is an error code.

        `client_transaction_version` 2 is the implicit add of transaction version 2 (a broker
        adding the partitions of a Produce v12 or TxnOffsetCommit v5, Kafka's AddPartitionsToTxn
        v4+ without verify_only): a pending completion answers CONCURRENT_TRANSACTIONS before the
        producer is checked, so that a producer that just moved to a new producer id (epoch
        overflow) retries instead of being fenced (KAFKA-18660)."""
        fx = Effects()
        meta = self.txns.get(transactional_id)
        v2 = client_transaction_version >= TV_2
        if v2 and meta is not None and meta.state in _PREPARE:
            return fx.respond(token, ErrorCode.CONCURRENT_TRANSACTIONS)
        code = self._check_producer(meta, producer_id, producer_epoch)
        if code != ErrorCode.NONE:
            return fx.respond(token, code)
        assert meta is not None
        if meta.state in _PREPARE:
            return fx.respond(token, ErrorCode.CONCURRENT_TRANSACTIONS)
        if meta.state == TxnState.ONGOING and partitions <= meta.partitions:
            return fx.respond(token, ErrorCode.NONE)
        if meta.state not in (TxnState.ONGOING, TxnState.EMPTY, *_COMPLETE):
            return fx.respond(token, ErrorCode.INVALID_TXN_STATE)
        start = meta.start_ms if meta.state == TxnState.ONGOING else now_ms
        new = replace(meta, state=TxnState.ONGOING, partitions=meta.partitions | partitions,
                      start_ms=start, last_update_ms=now_ms,
                      client_transaction_version=TV_2 if v2 else 0)
        if v2:
            new.previous_producer_id = meta.producer_id  # Kafka's: the id before this transition
        self._write(fx, new)
        return fx.respond(token, ErrorCode.NONE)

    def verify(self, transactional_id: str, producer_id: int, producer_epoch: int,
               partitions: set[tuple[str, int]]) -> dict[tuple[str, int], int] | int:
        """KIP-890 part 1: whether partitions were added to the ongoing transaction. Returns
        an error for all partitions, or a code per partition (TRANSACTION_ABORTABLE for those
        not in the transaction). Pure read."""
        meta = self.txns.get(transactional_id)
        code = self._check_producer(meta, producer_id, producer_epoch)
        if code != ErrorCode.NONE:
            return code
        assert meta is not None
        if meta.state in _PREPARE:
            return ErrorCode.CONCURRENT_TRANSACTIONS
        return {tp: ErrorCode.NONE if tp in meta.partitions else ErrorCode.TRANSACTION_ABORTABLE
                for tp in partitions}

    def verify_partitions(self, transactional_id: str, producer_id: int, producer_epoch: int,
                          partitions: set[tuple[str, int]], token: Any, now_ms: int) -> Effects:
        return Effects().respond(token, self.verify(transactional_id, producer_id, producer_epoch, partitions))

    # -- EndTxn ------------------------------------------------------------------------------

    def end_txn(self, transactional_id: str, producer_id: int, producer_epoch: int, commit: bool,
                token: Any, now_ms: int, client_transaction_version: int = 0) -> Effects:
        """Commit or abort: PrepareCommit/PrepareAbort is written and answered; the markers
        follow as an action. The response is an error code (an EndTxnResult for transaction
        version 2, see end_txn_v2)."""
        if client_transaction_version >= TV_2:
            return self.end_txn_v2(transactional_id, producer_id, producer_epoch, commit, token, now_ms)
        fx = Effects()
        meta = self.txns.get(transactional_id)
        if meta is None or meta.producer_id != producer_id:
            return fx.respond(token, ErrorCode.INVALID_PRODUCER_ID_MAPPING)
        if producer_epoch != meta.producer_epoch:
            return fx.respond(token, ErrorCode.PRODUCER_FENCED)
        state = meta.state
        if state in _PREPARE:
            # Markers are being written (Kafka's pending transition to Complete*): whatever the
            # request, the client retries until the transaction is complete.
            return fx.respond(token, ErrorCode.CONCURRENT_TRANSACTIONS)
        if state == TxnState.ONGOING:
            new = replace(meta, state=TxnState.PREPARE_COMMIT if commit else TxnState.PREPARE_ABORT,
                          partitions=set(meta.partitions), last_update_ms=now_ms,
                          client_transaction_version=0, next_producer_id=NO_PRODUCER_ID)
            self._write(fx, new)
            fx.actions.append(self._markers(new))
            return fx.respond(token, ErrorCode.NONE)
        if state == TxnState.COMPLETE_COMMIT:
            return fx.respond(token, ErrorCode.NONE if commit else ErrorCode.INVALID_TXN_STATE)
        if state == TxnState.COMPLETE_ABORT:
            return fx.respond(token, ErrorCode.INVALID_TXN_STATE if commit else ErrorCode.NONE)
        return fx.respond(token, ErrorCode.INVALID_TXN_STATE)  # Empty

    def end_txn_v2(self, transactional_id: str, producer_id: int, producer_epoch: int, commit: bool,
                   token: Any, now_ms: int) -> Effects:
        """EndTxn v5 (transaction version 2), as Kafka 4's coordinator: every commit or abort
        bumps the epoch (a new producer id at epoch 0 once it is exhausted), the markers carry
        the bumped epoch, and the response the id and epoch to go on with. An abort is allowed
        with no transaction open (the client aborts without knowing whether it began one).
        A retry, one epoch behind (or across the overflow), of the request that completed
        the transaction is answered NONE with the current id and epoch:

            state           abort retry  abort current  commit retry  commit current
            Empty           FENCED       bump           FENCED        INVALID_TXN_STATE
            CompleteAbort   NONE         bump           INVALID       INVALID_TXN_STATE
            CompleteCommit  INVALID      bump           NONE          INVALID_TXN_STATE
        """
        fx = Effects()
        meta = self.txns.get(transactional_id)

        def answer(code: int, pid: int = NO_PRODUCER_ID, epoch: int = NO_PRODUCER_EPOCH) -> Effects:
            return fx.respond(token, EndTxnResult(code, pid, epoch))

        if meta is None:
            return answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
        retry_on_overflow = (meta.previous_producer_id == producer_id and producer_epoch == MAX_EPOCH - 1
                             and meta.producer_epoch == 0)
        retry_on_bump = meta.producer_epoch == producer_epoch + 1
        if meta.producer_id != producer_id and not retry_on_overflow:
            return answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
        state = meta.state
        if state in _PREPARE:
            # The markers of the previous EndTxn are being written (Kafka's pending transition,
            # checked before the epoch so a retry is not fenced: KAFKA-18464).
            return answer(ErrorCode.CONCURRENT_TRANSACTIONS)
        if state in _COMPLETE:
            valid = retry_on_bump or retry_on_overflow or producer_epoch == meta.producer_epoch
        else:
            valid = producer_epoch == meta.producer_epoch
        if not valid:
            return answer(ErrorCode.PRODUCER_FENCED)
        retry = retry_on_bump or retry_on_overflow
        if state == TxnState.ONGOING:
            return self._complete_v2(fx, token, meta, commit, now_ms, no_partition_added=False)
        if state == TxnState.COMPLETE_COMMIT:
            if commit:
                return answer(ErrorCode.NONE, meta.producer_id, meta.producer_epoch) if retry else \
                    answer(ErrorCode.INVALID_TXN_STATE)
            if retry:
                return answer(ErrorCode.INVALID_TXN_STATE)
            return self._complete_v2(fx, token, meta, False, now_ms, no_partition_added=True)
        if state == TxnState.COMPLETE_ABORT:
            if commit:
                return answer(ErrorCode.INVALID_TXN_STATE)
            if retry:
                return answer(ErrorCode.NONE, meta.producer_id, meta.producer_epoch)
            return self._complete_v2(fx, token, meta, False, now_ms, no_partition_added=True)
        if state == TxnState.EMPTY and not commit:
            return self._complete_v2(fx, token, meta, False, now_ms, no_partition_added=True)
        return answer(ErrorCode.INVALID_TXN_STATE)

    def _complete_v2(self, fx: Effects, token: Any, meta: TxnMetadata, commit: bool, now_ms: int, *,
                     no_partition_added: bool) -> Effects:
        """Write PrepareCommit/PrepareAbort at the bumped epoch (Kafka's prepareAbortOrCommit for
        transaction version 2) and answer with the id and epoch the completion will leave."""
        next_pid = NO_PRODUCER_ID
        if epoch_exhausted(meta.producer_epoch):
            try:
                next_pid = self._allocate_producer_id()
            except ProducerIdError as exc:
                return fx.respond(token, EndTxnResult(exc.code))
        # Short.MaxValue is only reachable through a classic fence; never step past it.
        bumped = min(meta.producer_epoch + 1, MAX_EPOCH)
        new = replace(meta, state=TxnState.PREPARE_COMMIT if commit else TxnState.PREPARE_ABORT,
                      producer_epoch=bumped, last_producer_epoch=meta.producer_epoch,
                      previous_producer_id=meta.producer_id, next_producer_id=next_pid,
                      partitions=set(meta.partitions), client_transaction_version=TV_2,
                      # an abort with no transaction open starts and ends now
                      start_ms=now_ms if no_partition_added else meta.start_ms, last_update_ms=now_ms)
        self._write(fx, new)
        fx.actions.append(self._markers(new))
        if next_pid >= 0:
            return fx.respond(token, EndTxnResult(ErrorCode.NONE, next_pid, 0))
        return fx.respond(token, EndTxnResult(ErrorCode.NONE, new.producer_id, new.producer_epoch))

    def markers_written(self, action: WriteMarkers, now_ms: int) -> Effects:
        """Every marker of `action` is written: complete the transaction (with transaction
        version 2 and an exhausted epoch, under the next producer id at epoch 0)."""
        fx = Effects()
        meta = self.txns.get(action.transactional_id)
        if (meta is None or meta.producer_id != action.producer_id
                or meta.producer_epoch != action.producer_epoch or meta.state not in _PREPARE
                or (meta.state == TxnState.PREPARE_COMMIT) != action.commit):
            return fx  # superseded (a newer leader or epoch took over)
        new = replace(meta, state=TxnState.COMPLETE_COMMIT if action.commit else TxnState.COMPLETE_ABORT,
                      partitions=set(), last_update_ms=now_ms, next_producer_id=NO_PRODUCER_ID)
        if meta.client_transaction_version >= TV_2 and meta.next_producer_id >= 0:
            # The client already has the new id from EndTxn; the last epoch it saw is kept.
            new.producer_id, new.producer_epoch = meta.next_producer_id, 0
            new.previous_producer_id = meta.producer_id
        elif meta.client_transaction_version >= TV_2:
            new.previous_producer_id = meta.producer_id
        self._write(fx, new)
        return fx

    # -- timers ------------------------------------------------------------------------------

    def abort_timed_out(self, now_ms: int) -> Effects:
        """Abort, with an epoch fence, every transaction open longer than its timeout."""
        fx = Effects()
        for meta in list(self.txns.values()):
            if meta.state == TxnState.ONGOING and meta.start_ms + meta.timeout_ms < now_ms:
                log.info("aborting transaction of %s (producer %d) open longer than %d ms",
                         meta.transactional_id, meta.producer_id, meta.timeout_ms)
                code = self._fence_and_abort(fx, meta, now_ms)
                if code != ErrorCode.NONE:
                    log.warning("cannot abort the transaction of %s yet: %s", meta.transactional_id,
                                ErrorCode(code).name)
        return fx

    def expire_transactional_ids(self, now_ms: int) -> Effects:
        """Tombstone transactional ids idle longer than transactional.id.expiration.ms."""
        fx = Effects()
        limit = now_ms - self.config.transactional_id_expiration_ms
        for meta in list(self.txns.values()):
            if meta.state in (TxnState.EMPTY, *_COMPLETE) and meta.last_update_ms <= limit:
                fx.records.append(rec.encode(meta.transactional_id, None))
        return fx

    # -- admin -------------------------------------------------------------------------------

    def describe(self, transactional_id: str) -> TxnDescription:
        meta = self.txns.get(transactional_id)
        if meta is None:
            return TxnDescription(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, transactional_id)
        return TxnDescription(
            ErrorCode.NONE, transactional_id, meta.state.display, meta.timeout_ms, meta.start_ms,
            meta.producer_id, meta.producer_epoch, tuple(sorted(meta.partitions)),
        )

    def describe_op(self, transactional_id: str, token: Any, now_ms: int) -> Effects:
        return Effects().respond(token, self.describe(transactional_id))

    def list_transactions(self, states: set[TxnState], producer_ids: set[int], duration_ms: int,
                          pattern: re.Pattern | None, now_ms: int) -> list[tuple[str, int, str]]:
        """(transactional id, producer id, state name) of the transactions matching every
        filter (an empty filter matches all; duration < 0 is no filter)."""
        out = []
        for meta in self.txns.values():
            if producer_ids and meta.producer_id not in producer_ids:
                continue
            if states and meta.state not in states:
                continue
            if duration_ms >= 0 and now_ms - meta.start_ms <= duration_ms:
                continue
            if pattern is not None and not pattern.fullmatch(meta.transactional_id):
                continue
            out.append((meta.transactional_id, meta.producer_id, meta.state.display))
        return out
