"""Transaction markers: writing COMMIT/ABORT control batches to the partitions of a transaction.

`write_markers_locally` appends markers to partitions this broker leads (what WriteTxnMarkers
does, and what the coordinator does for partitions it leads itself), waits for them to be
replicated (acks=all, as Kafka's coordinator appends), and lets the group coordinator replay
markers written to `__consumer_offsets` so transactional offset commits become visible.

`MarkerWriter` runs the WriteMarkers actions of the transaction coordinator shards: it groups
a transaction's partitions by leader, sends each group through `send(broker_id, markers)` —
local for this broker, a WriteTxnMarkers request otherwise — retries what failed with a
backoff, and once every marker is written tells the shard, which completes the transaction.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from protocol.errors import ErrorCode
from pybroker.coordinator.shard import TxnMarker
from pybroker.partitions import PartitionError
from storage import LogClosedError, ProducerStateError, StorageError

log = logging.getLogger("pybroker.transactions.markers")

GROUP_TOPIC = "__consumer_offsets"
GROUP_KEY_TYPE = 0

# Errors after which the marker is not retried: the producer or the coordinator moved on
# (Kafka's TransactionMarkerRequestCompletionHandler drops the transaction's markers).
_GIVE_UP = {ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.TRANSACTION_COORDINATOR_FENCED}


@dataclass(frozen=True, slots=True)
class MarkerEntry:
    """One marker for several partitions, as a WriteTxnMarkers request carries it."""

    producer_id: int
    producer_epoch: int
    commit: bool
    coordinator_epoch: int
    partitions: tuple[tuple[str, int], ...]
    transaction_version: int = 0  # 2: the epoch was bumped by the transaction's end (KIP-890)


async def write_markers_locally(broker: Any, entries: list[MarkerEntry], timeout_ms: int = 30_000
                                ) -> list[dict[tuple[str, int], int]]:
    """Append each entry's marker to each of its partitions as leader; per entry, the error
    code of each partition once the markers are replicated (or the wait timed out)."""
    results: list[dict[tuple[str, int], int]] = []
    waiting: list[tuple[Any, int, dict, tuple[str, int]]] = []
    replicas = broker.replicas
    for entry in entries:
        codes: dict[tuple[str, int], int] = {}
        results.append(codes)
        for tp in entry.partitions:
            topic, index = tp
            try:
                partition = replicas.leader_partition(topic, index)
                result = partition.log.append_end_txn_marker(
                    entry.producer_id, entry.producer_epoch, entry.coordinator_epoch, entry.commit,
                    leader_epoch=partition.leader_epoch, transaction_version=entry.transaction_version,
                )
            except PartitionError as exc:
                codes[tp] = exc.code
                continue
            except ProducerStateError as exc:
                codes[tp] = int(exc.error_code)
                continue
            except LogClosedError:
                codes[tp] = ErrorCode.NOT_LEADER_OR_FOLLOWER
                continue
            except StorageError as exc:
                log.error("%s-%d: cannot write a transaction marker: %s", topic, index, exc)
                codes[tp] = int(getattr(exc, "error_code", ErrorCode.KAFKA_STORAGE_ERROR))
                continue
            partition.after_append()
            if result.needs_flush:
                replicas.schedule_flush(partition)
            if topic == GROUP_TOPIC:
                groups = broker.coordinators.get(GROUP_KEY_TYPE)
                if groups is not None:
                    groups.replay_marker(index, result.first_offset,
                                         TxnMarker(entry.producer_id, entry.producer_epoch, entry.commit))
            codes[tp] = ErrorCode.NONE
            waiting.append((partition, result.last_offset + 1, codes, tp))
    await _await_replication(waiting, timeout_ms)
    return results


async def _await_replication(waiting: list[tuple[Any, int, dict, tuple[str, int]]], timeout_ms: int) -> None:
    pending = [w for w in waiting if w[0].high_watermark < w[1]]
    if not pending:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_ms / 1000
    while pending:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        fut = loop.create_future()
        for w in pending:
            w[0].add_waiter(fut)
        try:
            await asyncio.wait_for(fut, remaining)
        except asyncio.TimeoutError:
            pass
        finally:
            for w in pending:
                w[0].remove_waiter(fut)
        pending = [w for w in pending if w[0].high_watermark < w[1] and not w[0].deleted]
    for partition, _target, codes, tp in pending:
        codes[tp] = ErrorCode.NOT_LEADER_OR_FOLLOWER if partition.deleted else ErrorCode.REQUEST_TIMED_OUT


Sender = Callable[[int, list[MarkerEntry]], Awaitable[list[dict[tuple[str, int], int]]]]


class MarkerWriter:
    """Writes the markers of completing transactions and reports back to their shard."""

    def __init__(self, broker: Any, runtime: Callable[[], Any], *, send: Sender | None = None,
                 max_backoff_s: float = 1.0) -> None:
        self.broker = broker
        self.runtime = runtime
        self.send = send or self._send
        self.max_backoff_s = max_backoff_s
        self._tasks: set[asyncio.Task] = set()
        self._remote: dict[int, Any] = {}

    def on_actions(self, txn_partition: int, actions: list[Any]) -> None:
        """Runtime callback: WriteMarkers actions of a shard, their Prepare* record committed."""
        for action in actions:
            task = asyncio.ensure_future(self._complete(txn_partition, action))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _shard_alive(self, txn_partition: int, coordinator_epoch: int) -> bool:
        runtime = self.runtime()
        st = runtime.shards.get(txn_partition) if runtime is not None else None
        return st is not None and st.leader_epoch == coordinator_epoch

    async def _complete(self, txn_partition: int, action: Any) -> None:
        pending = set(action.partitions)
        backoff = 0.02
        try:
            while pending:
                if not self._shard_alive(txn_partition, action.coordinator_epoch):
                    return  # the partition's new leader loads the Prepare* state and resends
                by_leader: dict[int, list[tuple[str, int]]] = {}
                image = self.broker.image
                for tp in sorted(pending):
                    reg = image.partition(*tp)
                    if reg is None:
                        # Deleted topic or partition: nothing to mark (Kafka skips it too).
                        pending.discard(tp)
                        continue
                    by_leader.setdefault(reg.leader, []).append(tp)
                for leader, tps in by_leader.items():
                    if leader < 0:
                        continue
                    entry = MarkerEntry(action.producer_id, action.producer_epoch, action.commit,
                                        action.coordinator_epoch, tuple(tps), action.transaction_version)
                    try:
                        [codes] = await self.send(leader, [entry])
                    except Exception as exc:
                        log.info("writing markers for %s to broker %d failed: %s",
                                 action.transactional_id, leader, exc)
                        continue
                    for tp, code in codes.items():
                        if code == ErrorCode.NONE:
                            pending.discard(tp)
                        elif code in _GIVE_UP:
                            log.warning("giving up the markers of %s (producer %d, epoch %d) on %s-%d: %s",
                                        action.transactional_id, action.producer_id, action.producer_epoch,
                                        tp[0], tp[1], ErrorCode(code).name)
                            return
                if pending:
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("writing the markers of %s failed", action.transactional_id)
            return
        runtime = self.runtime()
        if runtime is not None and self._shard_alive(txn_partition, action.coordinator_epoch):
            runtime.run(txn_partition, lambda shard, now: shard.markers_written(action, now))

    async def _send(self, broker_id: int, entries: list[MarkerEntry]) -> list[dict[tuple[str, int], int]]:
        if broker_id == self.broker.node_id:
            return await write_markers_locally(self.broker, entries)
        return await asyncio.get_running_loop().run_in_executor(None, self._send_remote, broker_id, entries)

    def _send_remote(self, broker_id: int, entries: list[MarkerEntry]) -> list[dict[tuple[str, int], int]]:
        """WriteTxnMarkers to another broker (blocking; runs in an executor thread)."""
        from protocol.messages import WriteTxnMarkersRequest
        from pybroker.tools.client import BrokerConnection

        endpoint = self.broker.endpoint_of(broker_id)
        conn = self._remote.get(broker_id)
        if conn is None or (conn.host, conn.port) != (endpoint.host, endpoint.port):
            conn = BrokerConnection(endpoint.host, endpoint.port, node_id=broker_id).connect()
            self._remote[broker_id] = conn
        R = WriteTxnMarkersRequest
        request = R(markers=[
            R.WritableTxnMarker(
                producer_id=e.producer_id, producer_epoch=e.producer_epoch, transaction_result=e.commit,
                coordinator_epoch=e.coordinator_epoch,
                topics=[R.WritableTxnMarkerTopic(name=t, partition_indexes=[i for tt, i in e.partitions if tt == t])
                        for t in dict.fromkeys(t for t, _ in e.partitions)],
                transaction_version=e.transaction_version,
            ) for e in entries
        ])
        try:
            # v2 carries the transaction version (older brokers check the epoch the classic way).
            response = conn.request(27, request, version=min(conn.version(27), 2))
        except Exception:
            self._remote.pop(broker_id, None)
            conn.close()
            raise
        out = []
        for e, marker in zip(entries, response.markers):
            codes = {}
            for topic in marker.topics:
                for p in topic.partitions:
                    codes[(topic.name, p.partition_index)] = p.error_code
            out.append(codes)
        return out

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for conn in self._remote.values():
            try:
                conn.close()
            except Exception:
                pass
        self._remote.clear()
