"""The records of `__transaction_state`, byte-compatible with Apache Kafka's: TransactionLogKey
(int16 version 0, then the transactional id) and TransactionLogValue (int16 version, then the
metadata), or a null value (tombstone) once a transactional id expired.

Which value version is written follows the cluster's finalized `transaction.version`, as in
Kafka: version 0 below 1, version 1 (flexible, the KIP-890 fields as tagged fields) from 1 on.
Both are read. Version 1 records carry clientTransactionVersion, as Kafka's do, and also the
previous and next producer ids when they differ from the defaults (Kafka reads those tags but
does not write them; writing them makes a replay across an epoch overflow exact).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from protocol.compiler import classes_for, codec_for
from protocol.errors import DecodeError
from protocol.schema import message

from pybroker.coordinator.records import read_prefix, read_versioned_value, write_versioned
from pybroker.coordinator.shard import CoordinatorRecord


KEY_VERSION = 0
VALUE_VERSION = 0

TRANSACTION_LOG_KEY = message(
    "TransactionLogKey", kind="data", versions="0",
    fields="""
transactional_id  string
""",
)

TRANSACTION_LOG_VALUE = message(
    "TransactionLogValue", kind="data", versions="0-1", flexible="1+",
    fields="""
producer_id                           int64
previous_producer_id                  int64  1+ default=-1 tag=0
next_producer_id                      int64  1+ default=-1 tag=1
producer_epoch                        int16
next_producer_epoch                   int16  1+ default=-1 tag=3
transaction_timeout_ms                int32
transaction_status                    int8
transaction_partitions                [PartitionsSchema]  nullable=0+
  topic                               string
  partition_ids                       [int32]
transaction_last_update_timestamp_ms  int64
transaction_start_timestamp_ms        int64
client_transaction_version            int16  1+ default=0 tag=2
""",
)

TransactionLogKey = classes_for(TRANSACTION_LOG_KEY)["TransactionLogKey"]
TransactionLogValue = classes_for(TRANSACTION_LOG_VALUE)["TransactionLogValue"]
PartitionsSchema = TransactionLogValue.PartitionsSchema


class TxnState(IntEnum):
    """Kafka's transaction states, with the ids stored in TransactionLogValue."""

    EMPTY = 0
    ONGOING = 1
    PREPARE_COMMIT = 2
    PREPARE_ABORT = 3
    COMPLETE_COMMIT = 4
    COMPLETE_ABORT = 5
    DEAD = 6
    PREPARE_EPOCH_FENCE = 7

    @property
    def display(self) -> str:
        """The name DescribeTransactions and ListTransactions use."""
        return _NAMES[self]

    @classmethod
    def from_display(cls, name: str) -> "TxnState | None":
        return _BY_NAME.get(name)


_NAMES = {
    TxnState.EMPTY: "Empty",
    TxnState.ONGOING: "Ongoing",
    TxnState.PREPARE_COMMIT: "PrepareCommit",
    TxnState.PREPARE_ABORT: "PrepareAbort",
    TxnState.COMPLETE_COMMIT: "CompleteCommit",
    TxnState.COMPLETE_ABORT: "CompleteAbort",
    TxnState.DEAD: "Dead",
    TxnState.PREPARE_EPOCH_FENCE: "PrepareEpochFence",
}
_BY_NAME = {v: k for k, v in _NAMES.items()}


@dataclass(slots=True)
class TxnRecord:
    """What one TransactionLogValue says about a transactional id."""

    producer_id: int
    producer_epoch: int
    timeout_ms: int
    state: TxnState
    partitions: set[tuple[str, int]] = field(default_factory=set)
    last_update_ms: int = -1
    start_ms: int = -1
    previous_producer_id: int = -1
    next_producer_id: int = -1
    client_transaction_version: int = 0


def key_bytes(transactional_id: str) -> bytes:
    return write_versioned(KEY_VERSION, TRANSACTION_LOG_KEY, KEY_VERSION,
                           TransactionLogKey(transactional_id=transactional_id))


def encode(transactional_id: str, rec: TxnRecord | None, value_version: int = VALUE_VERSION) -> CoordinatorRecord:
    """The record for a transactional id's metadata (None: its tombstone), its value written at
    `value_version` (0, or 1 when the cluster's transaction.version is 1 or more)."""
    key = key_bytes(transactional_id)
    if rec is None:
        return CoordinatorRecord(key, None)
    partitions = None
    if rec.state != TxnState.EMPTY:
        by_topic: dict[str, list[int]] = {}
        for topic, index in sorted(rec.partitions):
            by_topic.setdefault(topic, []).append(index)
        partitions = [PartitionsSchema(topic=t, partition_ids=ids) for t, ids in by_topic.items()]
    value = TransactionLogValue(
        producer_id=rec.producer_id, producer_epoch=rec.producer_epoch,
        transaction_timeout_ms=rec.timeout_ms, transaction_status=int(rec.state),
        transaction_partitions=partitions, transaction_last_update_timestamp_ms=rec.last_update_ms,
        transaction_start_timestamp_ms=rec.start_ms,
    )
    if value_version >= 1:
        value.client_transaction_version = rec.client_transaction_version
        if rec.previous_producer_id >= 0 and rec.previous_producer_id != rec.producer_id:
            value.previous_producer_id = rec.previous_producer_id
        value.next_producer_id = rec.next_producer_id
    return CoordinatorRecord(key, write_versioned(value_version, TRANSACTION_LOG_VALUE, value_version, value))


def decode_key(key: bytes) -> str:
    version = read_prefix(key, "transaction log key")
    if version != KEY_VERSION:
        raise DecodeError(f"unknown transaction log key version {version}")
    return codec_for(TRANSACTION_LOG_KEY, KEY_VERSION).decode(key, 2).transactional_id


def decode(record: CoordinatorRecord) -> tuple[str, TxnRecord | None]:
    """(transactional id, metadata or None for a tombstone); DecodeError if unreadable."""
    txn_id = decode_key(record.key)
    if record.value is None:
        return txn_id, None
    # Fields a version lacks decode to their defaults (-1, -1 and 0 for the tagged ones).
    _version, v = read_versioned_value(record.value, TRANSACTION_LOG_VALUE)
    state = TxnState(v.transaction_status)
    partitions: set[tuple[str, int]] = set()
    if state != TxnState.EMPTY and v.transaction_partitions:
        for p in v.transaction_partitions:
            partitions.update((p.topic, i) for i in p.partition_ids)
    return txn_id, TxnRecord(
        producer_id=v.producer_id, producer_epoch=v.producer_epoch,
        timeout_ms=v.transaction_timeout_ms, state=state, partitions=partitions,
        last_update_ms=v.transaction_last_update_timestamp_ms,
        start_ms=v.transaction_start_timestamp_ms,
        previous_producer_id=v.previous_producer_id,
        next_producer_id=v.next_producer_id,
        client_transaction_version=v.client_transaction_version,
    )
