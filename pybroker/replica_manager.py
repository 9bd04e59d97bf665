"""The partitions of this broker: created, updated and deleted as the metadata image says,
and the produce-side checks Kafka makes before an append."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, Callable

from protocol.errors import CorruptRecordError, ErrorCode
from protocol.records import CONTROL_FLAG, decode_records, iter_batches
from pybroker.partitions import Partition, PartitionError
from storage import LogClosedError, ProducerStateError, RecordTooLargeError, StorageError

log = logging.getLogger("pybroker.replicas")


class ReplicaManager:
    """Owns the Partition objects and the mapping from names and ids to them."""

    def __init__(self, broker_id: int, logs: Any, clock_ms: Callable[[], int]) -> None:
        self.broker_id = broker_id
        self.logs = logs  # the log manager: opens, creates and deletes partition logs
        self.clock_ms = clock_ms
        self.partitions: dict[tuple[str, int], Partition] = {}
        self.topic_ids: dict[uuid.UUID, str] = {}
        self.image: Any = None
        self._flushing: set[Partition] = set()

    # --- lookups --------------------------------------------------------------------------------
    def topic_name(self, topic_id: uuid.UUID) -> str | None:
        return self.topic_ids.get(topic_id)

    def get(self, topic: str | None, index: int) -> Partition | None:
        if topic is None:
            return None
        return self.partitions.get((topic, index))

    def leader_partition(self, topic: str | None, index: int, *, by_id: bool = False, current_leader_epoch: int = -1) -> Partition:
        """The local leader replica of a partition, or PartitionError with Kafka's code."""
        partition = self.partitions.get((topic, index)) if topic is not None else None
        if partition is None:
            if topic is None:
                raise PartitionError(ErrorCode.UNKNOWN_TOPIC_ID if by_id else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            image_topic = self.image.topic(topic) if self.image is not None else None
            if image_topic is None or index not in image_topic.partitions:
                raise PartitionError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            raise PartitionError(ErrorCode.NOT_LEADER_OR_FOLLOWER)
        partition.check_leader(current_leader_epoch)
        return partition

    # --- appends --------------------------------------------------------------------------------
    def append_records(self, partition: Partition, records: Any) -> Any:
        """Validate and append client batches as leader; errors become PartitionError."""
        cfg = partition.log.config
        try:
            if cfg.compact:
                self._check_keys(records)
            result = partition.log.append(records, leader_epoch=partition.leader_epoch)
        except ProducerStateError as exc:
            raise PartitionError(exc.error_code, str(exc)) from None
        except RecordTooLargeError as exc:
            raise PartitionError(exc.error_code, str(exc)) from None
        except CorruptRecordError as exc:
            raise PartitionError(ErrorCode.CORRUPT_MESSAGE, str(exc)) from None
        except LogClosedError:
            raise PartitionError(ErrorCode.NOT_LEADER_OR_FOLLOWER) from None
        except StorageError as exc:
            log.error("%s-%d: append failed: %s", partition.topic, partition.index, exc)
            raise PartitionError(exc.error_code, str(exc)) from None
        if not result.duplicate:
            partition.after_append()
            if result.needs_flush:
                self.schedule_flush(partition)
        return result

    @staticmethod
    def _check_keys(records: Any) -> None:
        """A compacted topic needs a key on every record: decode only for such topics."""
        try:
            for pos, h in iter_batches(records):
                if h.attributes & CONTROL_FLAG:
                    continue
                for record in decode_records(records, pos):
                    if record.key is None:
                        raise PartitionError(
                            ErrorCode.INVALID_RECORD, "compacted topic cannot accept a record without a key"
                        )
        except CorruptRecordError as exc:
            raise PartitionError(ErrorCode.CORRUPT_MESSAGE, str(exc)) from None

    def schedule_flush(self, partition: Partition) -> None:
        """fsync off the event loop; one flush per partition at a time (group commit)."""
        if partition in self._flushing:
            return
        self._flushing.add(partition)
        loop = asyncio.get_running_loop()

        def done(_f: Any) -> None:
            self._flushing.discard(partition)

        loop.run_in_executor(None, partition.log.flush).add_done_callback(done)

    # --- metadata -------------------------------------------------------------------------------
    def apply_image(self, image: Any, log_config_for: Callable[[str], Any]) -> None:
        """Bring local partitions in line with a metadata image: create logs for partitions
        this broker replicates, update leadership, and delete partitions of removed topics."""
        self.image = image
        wanted: set[tuple[str, int]] = set()
        topic_ids: dict[uuid.UUID, str] = {}
        for topic in image.topics_by_name.values():
            topic_ids[topic.topic_id] = topic.name
            for index, reg in topic.partitions.items():
                if self.broker_id not in reg.replicas:
                    continue
                key = (topic.name, index)
                wanted.add(key)
                partition = self.partitions.get(key)
                if partition is None or partition.topic_id != topic.topic_id:
                    if partition is not None:
                        self._remove(partition, delete_log=True)
                    log_obj = self.logs.get_or_create(topic.name, index, topic.topic_id, log_config_for(topic.name))
                    partition = Partition(topic.name, topic.topic_id, index, log_obj, self.broker_id, self.clock_ms)
                    self.partitions[key] = partition
                if partition.partition_epoch != reg.partition_epoch or partition.leader_epoch != reg.leader_epoch:
                    partition.update_registration(reg.leader, reg.leader_epoch, reg.partition_epoch, reg.replicas, reg.isr)
        for key in [k for k in self.partitions if k not in wanted]:
            self._remove(self.partitions[key], delete_log=True)
        self.topic_ids = topic_ids

    def update_log_config(self, topic: str, config: Any) -> None:
        for (name, _), partition in self.partitions.items():
            if name == topic:
                partition.log.config = config

    def _remove(self, partition: Partition, *, delete_log: bool) -> None:
        self.partitions.pop((partition.topic, partition.index), None)
        partition.deleted = True
        partition.wake()
        if delete_log:
            self.logs.delete(partition.topic, partition.index)

    def close(self) -> None:
        self.partitions.clear()
