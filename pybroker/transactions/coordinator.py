"""The transaction coordinator of one broker: the runtime of `__transaction_state` shards, the
marker writer, and the entry points the request handlers and the produce path use: KIP-890 part 1
verification, and with transaction version 2 (part 2) the partitions a Produce v12 or a
TxnOffsetCommit v5 adds to the transaction on the client's behalf (Kafka's
AddPartitionsToTxnManager sending AddPartitionsToTxn v5 without verify_only to the coordinator)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Iterable

from protocol.errors import ErrorCode
from protocol.records import TRANSACTIONAL_FLAG, read_header
from pybroker.coordinator import CoordinatorError, CoordinatorRuntime
from pybroker.metadata.features import TRANSACTION_VERSION, TV_2
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
        self._remote = _RemoteCoordinators(broker)
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
        return TransactionCoordinatorShard(partition, self.config, epoch,
                                           transaction_version=self.transaction_version,
                                           new_producer_id=self.broker.producer_ids.next_id_now)

    def transaction_version(self) -> int:
        """The cluster's finalized transaction.version (0 when not finalized)."""
        metadata = self.broker.metadata
        return metadata.image.features.get(TRANSACTION_VERSION, 0) if metadata is not None else 0

    def uses_v2(self, api_version: int, first_v2_version: int) -> bool:
        """Whether a request gets transaction version 2 semantics: the client speaks them (its
        request version) and the cluster has finalized transaction.version 2. Otherwise the
        request is served as the classic protocol (version 1)."""
        return api_version >= first_v2_version and self.transaction_version() >= TV_2

    def close(self) -> None:
        self.markers.close()
        self._remote.close()

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

    # --- transaction version 2: partitions added on the client's behalf (KIP-890 part 2) ---------
    async def add_partitions_implicitly(self, transactional_id: str, producer_id: int, producer_epoch: int,
                                        partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """Add `partitions` to the producer's transaction, as the coordinator does for an
        AddPartitionsToTxn v5 without verify_only; the coordinator's code per partition."""
        parts = set(partitions)
        coordinator = self.runtime.coordinator_for(transactional_id)
        if coordinator < 0 or self.broker.image.topic(self.runtime.topic) is None:
            return dict.fromkeys(parts, ErrorCode.COORDINATOR_NOT_AVAILABLE)
        if coordinator == self.broker.node_id:
            try:
                code = await self.runtime.call(transactional_id, lambda s, t, now: s.add_partitions(
                    transactional_id, producer_id, producer_epoch, parts, t, now, TV_2))
            except CoordinatorError as exc:
                code = exc.code
            return dict.fromkeys(parts, code)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, self._remote.add_partitions, coordinator, transactional_id,
                                              producer_id, producer_epoch, parts)
        except Exception as exc:
            log.info("adding partitions of %s at coordinator %d failed: %s", transactional_id, coordinator, exc)
            return dict.fromkeys(parts, ErrorCode.NETWORK_EXCEPTION)

    async def add_for_write(self, transactional_id: str, producer_id: int, producer_epoch: int,
                            partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The implicit add of a Produce v12: CONCURRENT_TRANSACTIONS (the previous transaction's
        markers still being written) is retried every `add.partitions.to.txn.retry.backoff.ms` for
        up to `add.partitions.to.txn.retry.backoff.max.ms` (bounded by request.timeout.ms), as
        Kafka's ReplicaManager does."""
        cfg = self.broker.config
        backoff = cfg.get("add.partitions.to.txn.retry.backoff.ms") / 1000
        limit = min(cfg.get("add.partitions.to.txn.retry.backoff.max.ms"), cfg.get("request.timeout.ms")) / 1000
        loop = asyncio.get_running_loop()
        start = loop.time()
        while True:
            codes = await self.add_partitions_implicitly(transactional_id, producer_id, producer_epoch, partitions)
            if loop.time() - start >= limit or ErrorCode.CONCURRENT_TRANSACTIONS not in codes.values():
                return codes
            await asyncio.sleep(backoff)

    def produce_partitions_to_add(self, ctx: Any, request: Any) -> "ProduceAdds":
        """What a transactional Produce v12+ needs before its appends: the partitions not yet in
        the producer's transaction on this leader (keyed by the topic as the request names it),
        or, when its transactional batches carry more than one producer id and epoch,
        INVALID_PRODUCER_ID_MAPPING for every partition (Kafka's InvalidPidMappingException)."""
        broker = self.broker
        by_id = ctx.api_version >= 13
        producers: set[tuple[int, int]] = set()
        adds = ProduceAdds()
        every: list[tuple[Any, int]] = []
        for topic in request.topic_data:
            name = broker.replicas.topic_name(topic.topic_id) if by_id else topic.name
            for p in topic.partition_data:
                every.append((name, p.index))
                records = p.records
                if records is None or len(records) < 61:
                    continue
                h = read_header(records, 0)
                if h.producer_id < 0 or not h.attributes & TRANSACTIONAL_FLAG:
                    continue
                producers.add((h.producer_id, h.producer_epoch))
                adds.producer_id, adds.producer_epoch = h.producer_id, h.producer_epoch
                try:
                    partition = broker.replicas.leader_partition(name, p.index, by_id=by_id)
                except PartitionError:
                    continue  # the append answers the partition's error
                entry = partition.log.producer_state.producers.get(h.producer_id)
                if entry is not None and entry.current_txn_first_offset is not None and entry.epoch == h.producer_epoch:
                    continue  # already in the open transaction
                adds.partitions[(name, p.index)] = (partition.topic, partition.index)
        if len(producers) > 1:
            adds.partitions.clear()
            adds.errors = dict.fromkeys(every, ErrorCode.INVALID_PRODUCER_ID_MAPPING)
        return adds


@dataclass(slots=True)
class ProduceAdds:
    """See TransactionCoordinator.produce_partitions_to_add."""

    producer_id: int = -1
    producer_epoch: int = -1
    partitions: dict[tuple[Any, int], tuple[str, int]] = field(default_factory=dict)
    errors: dict[tuple[Any, int], int] = field(default_factory=dict)


class _RemoteCoordinators:
    """AddPartitionsToTxn v5 to the coordinator on another broker (blocking; executor threads),
    one connection per request in flight."""

    def __init__(self, broker: Any) -> None:
        import threading

        self.broker = broker
        self._idle: dict[int, list[Any]] = {}
        self._lock = threading.Lock()

    def _connection(self, broker_id: int) -> Any:
        from pybroker.tools.client import BrokerConnection

        with self._lock:
            idle = self._idle.get(broker_id)
            if idle:
                return idle.pop()
        endpoint = self.broker.endpoint_of(broker_id)
        return BrokerConnection(endpoint.host, endpoint.port, node_id=broker_id).connect()

    def add_partitions(self, broker_id: int, transactional_id: str, producer_id: int, producer_epoch: int,
                       partitions: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
        from protocol.messages import AddPartitionsToTxnRequest as R

        conn = self._connection(broker_id)
        topics: dict[str, list[int]] = {}
        for topic, index in sorted(partitions):
            topics.setdefault(topic, []).append(index)
        request = R(transactions=[R.AddPartitionsToTxnTransaction(
            transactional_id=transactional_id, producer_id=producer_id, producer_epoch=producer_epoch,
            verify_only=False,
            topics=[R.AddPartitionsToTxnTopic(name=t, partitions=ps) for t, ps in topics.items()])])
        try:
            version = conn.version(24)
            if version < 5:
                raise ConnectionError(f"broker {broker_id} serves AddPartitionsToTxn up to v{version} only")
            response = conn.request(24, request, version=5)
        except Exception:
            conn.close()
            raise
        with self._lock:
            self._idle.setdefault(broker_id, []).append(conn)
        if response.error_code != ErrorCode.NONE:
            return dict.fromkeys(partitions, response.error_code)
        codes = {}
        for result in response.results_by_transaction:
            for topic in result.topic_results:
                for p in topic.results_by_partition:
                    codes[(topic.name, p.partition_index)] = p.partition_error_code
        return {tp: codes.get(tp, ErrorCode.UNKNOWN_SERVER_ERROR) for tp in partitions}

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            try:
                conn.close()
            except Exception:
                pass
