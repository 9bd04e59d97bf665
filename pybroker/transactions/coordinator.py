"""The transaction coordinator of one broker: the runtime of `__transaction_state` shards, the
marker writer, and the entry points the request handlers and the produce path use."""

from __future__ import annotations

import logging
from typing import Any

from protocol.errors import ErrorCode
from protocol.records import TRANSACTIONAL_FLAG, read_header
from pybroker.coordinator import CoordinatorError, CoordinatorRuntime
from pybroker.partitions import PartitionError
from pybroker.producer_ids import ProducerIdError
from pybroker.transactions.markers import MarkerWriter

log = logging.getLogger("pybroker.transactions")

TOPIC = "__transaction_state"
KEY_TYPE = 1

# Verification errors a producer of any version retries: Kafka answers them as
# NOT_ENOUGH_REPLICAS, which older clients retry without refreshing metadata.
_RETRIABLE_VERIFY = {
    ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.NETWORK_EXCEPTION, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR,
}


def produce_verification_error(code: int, produce_version: int) -> int:
    """The Produce error for a failed KIP-890 verification, as Kafka maps it per version."""
    if code == ErrorCode.PRODUCER_FENCED:
        return ErrorCode.INVALID_PRODUCER_EPOCH
    if code == ErrorCode.TRANSACTION_ABORTABLE and produce_version < 11:
        return ErrorCode.INVALID_TXN_STATE
    if code in _RETRIABLE_VERIFY:
        return ErrorCode.NOT_ENOUGH_REPLICAS
    return code


class TransactionCoordinator:
    """Owns the `__transaction_state` runtime (FindCoordinator key type 1)."""

    def __init__(self, broker: Any) -> None:
        self.broker = broker
        cfg = broker.config
        self._config: Any = None
        self.verification = bool(cfg.get("transaction.partition.verification.enable"))
        self.markers = MarkerWriter(broker, lambda: self.runtime)
        self.runtime = CoordinatorRuntime(
            broker,
            TOPIC,
            cfg.get("transaction.state.log.num.partitions"),
            cfg.get("transaction.state.log.replication.factor"),
            {
                "cleanup.policy": "compact",
                "compression.type": "uncompressed",
                "unclean.leader.election.enable": "false",
                "min.insync.replicas": str(cfg.get("transaction.state.log.min.isr")),
                "segment.bytes": str(cfg.get("transaction.state.log.segment.bytes")),
            },
            self._new_shard,
            self.markers.on_actions,
        )

    @property
    def config(self) -> Any:
        if self._config is None:
            from pybroker.transactions.shard import TxnConfig

            self._config = TxnConfig.from_broker(self.broker.config)
        return self._config

    def _new_shard(self, partition: int) -> Any:
        # Imported on first use: a broker that never sees a transaction pays nothing for it.
        from pybroker.transactions.shard import TransactionCoordinatorShard

        # The coordinator epoch is the leader epoch of the state partition (fixed for the
        # shard's life: the runtime builds a new shard when it changes).
        replica = self.broker.replicas.get(TOPIC, partition) if self.broker.replicas is not None else None
        if replica is not None:
            epoch = replica.leader_epoch
        else:
            reg = self.broker.image.partition(TOPIC, partition)
            epoch = reg.leader_epoch if reg is not None else 0
        return TransactionCoordinatorShard(partition, self.config, epoch)

    def close(self) -> None:
        self.markers.close()

    # --- InitProducerId ----------------------------------------------------------------------
    async def init_producer_id(self, transactional_id: str, timeout_ms: int, producer_id: int,
                               producer_epoch: int) -> Any:
        from pybroker.transactions.shard import NEED_PRODUCER_ID, InitResult

        if not transactional_id:
            return InitResult(ErrorCode.INVALID_REQUEST)
        if (producer_id < 0) != (producer_epoch < 0):
            return InitResult(ErrorCode.INVALID_REQUEST)
        new_pid: int | None = None
        for _ in range(4):
            try:
                result = await self.runtime.call(transactional_id, lambda s, t, now: s.init_producer_id(
                    transactional_id, timeout_ms, producer_id, producer_epoch, new_pid, t, now))
            except CoordinatorError as exc:
                return InitResult(exc.code)
            if result is not NEED_PRODUCER_ID:
                return result
            try:
                new_pid = await self.broker.producer_ids.next_id()
            except ProducerIdError as exc:
                return InitResult(exc.code)
        return InitResult(ErrorCode.CONCURRENT_TRANSACTIONS)

    # --- produce verification (KIP-890 part 1) ---------------------------------------------------
    def check_produce(self, ctx: Any, transactional_id: str, partition: Any, records: Any) -> None:
        """Before a transactional append: the producer's epoch is current and the partition was
        added to its transaction. Raises PartitionError with the code Produce answers."""
        if records is None or len(records) < 61:
            return
        h = read_header(records, 0)
        pid, epoch = h.producer_id, h.producer_epoch
        if pid < 0 or not h.attributes & TRANSACTIONAL_FLAG:
            return
        entry = partition.log.producer_state.producers.get(pid)
        if entry is not None and entry.current_txn_first_offset is not None and entry.epoch == epoch:
            return  # the transaction is already open on this partition: verified when it began
        if not self.verification:
            return
        if self.runtime.coordinator_for(transactional_id) != self.broker.node_id:
            # The coordinator is another broker: Kafka asks it with AddPartitionsToTxn
            # (verify_only); this broker checks only transactions it coordinates.
            return
        tp = (partition.topic, partition.index)
        try:
            shard = self.runtime.shard_for(transactional_id)
        except CoordinatorError as exc:
            raise PartitionError(produce_verification_error(exc.code, ctx.api_version)) from None
        result = shard.verify(transactional_id, pid, epoch, {tp})
        code = result if isinstance(result, int) else result[tp]
        if code != ErrorCode.NONE:
            raise PartitionError(produce_verification_error(code, ctx.api_version),
                                 "the partition was not added to the transaction"
                                 if code == ErrorCode.TRANSACTION_ABORTABLE else None)

    def verify_offsets_partition(self, transactional_id: str, producer_id: int, producer_epoch: int,
                                 group_partition: int) -> int:
        """TxnOffsetCommit's check that the group's offsets partition is in the transaction
        (NONE when it is, or when another broker coordinates the transaction)."""
        if not self.verification or self.runtime.coordinator_for(transactional_id) != self.broker.node_id:
            return ErrorCode.NONE
        tp = ("__consumer_offsets", group_partition)
        try:
            shard = self.runtime.shard_for(transactional_id)
        except CoordinatorError as exc:
            return exc.code
        result = shard.verify(transactional_id, producer_id, producer_epoch, {tp})
        return result if isinstance(result, int) else result[tp]
