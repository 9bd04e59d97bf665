"""Committed offsets: the store rebuilt from offset commit records (transactional ones kept
pending until their transaction's marker), and the OffsetCommit, TxnOffsetCommit, OffsetFetch,
OffsetDelete and expiry logic on top of it.

Operations return records and responses; the store itself changes only by replay.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Iterator

from protocol.errors import ErrorCode
from protocol.messages import (
    OffsetCommitResponse,
    OffsetDeleteResponse,
    OffsetFetchResponse,
    TxnOffsetCommitResponse,
)

from pybroker.coordinator.shard import CoordinatorRecord
from pybroker.groups import records as rec
from pybroker.groups.group import Group, GroupError

NO_OFFSET = -1
NO_METADATA = ""

Partitions = dict[int, "OffsetAndMetadata"]
ByTopic = dict[str, Partitions]


@dataclass(frozen=True, slots=True)
class OffsetAndMetadata:
    """One committed offset, and the log offset of the record that committed it."""

    offset: int
    leader_epoch: int  # -1: none
    metadata: str
    commit_timestamp_ms: int
    expire_timestamp_ms: int = -1  # only set by OffsetCommit v2-4 with a retention time
    record_offset: int = -1


class OffsetStore:
    """Committed offsets by group, topic and partition; pending transactional offsets by producer."""

    def __init__(self) -> None:
        self.committed: dict[str, ByTopic] = {}
        self.pending: dict[int, dict[str, ByTopic]] = {}  # producer id -> group -> offsets
        self.open_txns_by_group: dict[str, set[int]] = {}

    # -- replay ------------------------------------------------------------------------------

    def replay(self, group: str, topic: str, partition: int, value: Any | None, record_offset: int,
               producer_id: int) -> None:
        """Apply an offset commit record (value None: tombstone); producer_id >= 0: transactional."""
        if value is None:
            self._remove(self.committed, group, topic, partition)
            # A tombstone also drops what open transactions would commit for the partition.
            for pid in list(self.open_txns_by_group.get(group, ())):
                self._remove(self.pending.get(pid, {}), group, topic, partition)
            return
        entry = OffsetAndMetadata(value.offset, value.leader_epoch, value.metadata,
                                  value.commit_timestamp, value.expire_timestamp, record_offset)
        if producer_id >= 0:
            by_group = self.pending.setdefault(producer_id, {})
            by_group.setdefault(group, {}).setdefault(topic, {})[partition] = entry
            self.open_txns_by_group.setdefault(group, set()).add(producer_id)
        else:
            self.committed.setdefault(group, {}).setdefault(topic, {})[partition] = entry

    def replay_marker(self, producer_id: int, commit: bool) -> None:
        """A transaction marker: COMMIT makes the producer's pending offsets visible, ABORT drops them."""
        by_group = self.pending.pop(producer_id, None)
        if by_group is None:
            return
        for group, topics in by_group.items():
            txns = self.open_txns_by_group.get(group)
            if txns is not None:
                txns.discard(producer_id)
                if not txns:
                    del self.open_txns_by_group[group]
            if not commit:
                continue
            for topic, partitions in topics.items():
                for partition, entry in partitions.items():
                    existing = self.get(group, topic, partition)
                    # Keep the most recent commit when regular and transactional commits mix:
                    # the record offset orders them, as compaction of the log would.
                    if existing is None or entry.record_offset > existing.record_offset:
                        self.committed.setdefault(group, {}).setdefault(topic, {})[partition] = entry

    @staticmethod
    def _remove(store: dict[str, ByTopic], group: str, topic: str, partition: int) -> None:
        topics = store.get(group)
        if topics is None:
            return
        partitions = topics.get(topic)
        if partitions is None:
            return
        partitions.pop(partition, None)
        if not partitions:
            del topics[topic]
        if not topics:
            del store[group]

    def remove_group(self, group: str) -> None:
        self.committed.pop(group, None)

    # -- reads -------------------------------------------------------------------------------

    def get(self, group: str, topic: str, partition: int) -> OffsetAndMetadata | None:
        return self.committed.get(group, {}).get(topic, {}).get(partition)

    def group_offsets(self, group: str) -> ByTopic:
        return self.committed.get(group, {})

    def has_offsets(self, group: str) -> bool:
        return group in self.committed

    def has_pending(self, group: str, topic: str, partition: int) -> bool:
        for pid in self.open_txns_by_group.get(group, ()):
            if partition in self.pending.get(pid, {}).get(group, {}).get(topic, {}):
                return True
        return False

    def has_open_transactions(self, group: str) -> bool:
        return group in self.open_txns_by_group

    def pending_partitions(self, group: str) -> Iterator[tuple[str, int]]:
        for pid in self.open_txns_by_group.get(group, ()):
            for topic, partitions in self.pending.get(pid, {}).get(group, {}).items():
                for partition in partitions:
                    yield topic, partition

    def groups(self) -> set[str]:
        return set(self.committed) | set(self.open_txns_by_group)


# --- operations ------------------------------------------------------------------------------

@dataclass(slots=True)
class TopicRef:
    """A topic of a request resolved against the metadata image (by name, or by id in v10)."""

    name: str
    topic_id: uuid.UUID
    error: ErrorCode = ErrorCode.NONE  # UNKNOWN_TOPIC_ID / UNKNOWN_TOPIC_OR_PARTITION for all


def check_partitions(refs: list[TopicRef], request_topics: list[Any], image: Any) -> list[list[int]]:
    """Per partition: UNKNOWN_TOPIC_ID / UNKNOWN_TOPIC_OR_PARTITION when the image lacks it (Kafka
    checks this before the group coordinator sees the commit), else NONE."""
    codes: list[list[int]] = []
    for ref, t in zip(refs, request_topics):
        topic_image = image.topic(ref.name) if ref.error == ErrorCode.NONE else None
        topic_codes = []
        for p in t.partitions:
            if ref.error != ErrorCode.NONE:
                topic_codes.append(ref.error)
            elif topic_image is None or p.partition_index not in topic_image.partitions:
                topic_codes.append(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            else:
                topic_codes.append(ErrorCode.NONE)
        codes.append(topic_codes)
    return codes


def commit_records(group_id: str, refs: list[TopicRef], request_topics: list[Any],
                   codes: list[list[int]], now_ms: int, max_metadata: int, expire_timestamp_ms: int,
                   use_request_timestamp: bool) -> list[CoordinatorRecord]:
    """The offset commit records of the partitions whose code is NONE; a partition whose metadata
    is longer than `offset.metadata.max.bytes` gets OFFSET_METADATA_TOO_LARGE instead (in `codes`)."""
    records: list[CoordinatorRecord] = []
    for ref, t, topic_codes in zip(refs, request_topics, codes):
        for i, p in enumerate(t.partitions):
            if topic_codes[i] != ErrorCode.NONE:
                continue
            metadata = p.committed_metadata
            if metadata is not None and len(metadata) > max_metadata:
                topic_codes[i] = ErrorCode.OFFSET_METADATA_TOO_LARGE
                continue
            commit_ts = now_ms
            if use_request_timestamp and getattr(p, "commit_timestamp", -1) != -1:
                commit_ts = p.commit_timestamp
            records.append(rec.offset_commit(
                group_id, ref.name, p.partition_index, p.committed_offset,
                getattr(p, "committed_leader_epoch", -1),
                NO_METADATA if metadata is None else metadata, commit_ts, expire_timestamp_ms))
    return records


def resolve_topics(request_topics: list[Any], version: int, id_version: int, image: Any) -> list[TopicRef]:
    """Resolve each request topic by name, or by topic id from `id_version` on."""
    refs = []
    for t in request_topics:
        if version >= id_version:
            topic = image.topic_by_id(t.topic_id)
            if topic is None:
                refs.append(TopicRef("", t.topic_id, ErrorCode.UNKNOWN_TOPIC_ID))
            else:
                refs.append(TopicRef(topic.name, t.topic_id))
        else:
            topic = image.topic(t.name)
            refs.append(TopicRef(t.name, topic.topic_id if topic is not None else uuid.UUID(int=0)))
    return refs


def offset_commit_response(request: Any, refs: list[TopicRef], codes: list[list[int]]) -> Any:
    R = OffsetCommitResponse
    topics = []
    for t, ref, topic_codes in zip(request.topics, refs, codes):
        topics.append(R.OffsetCommitResponseTopic(
            name=ref.name or getattr(t, "name", ""), topic_id=ref.topic_id,
            partitions=[R.OffsetCommitResponsePartition(partition_index=p.partition_index, error_code=c)
                        for p, c in zip(t.partitions, topic_codes)]))
    return R(topics=topics)


def offset_commit_error_response(request: Any, refs: list[TopicRef], codes: list[list[int]],
                                 error: ErrorCode) -> Any:
    """Every partition not already failed by the topic checks fails with `error`."""
    return offset_commit_response(request, refs, [
        [c if c != ErrorCode.NONE else error for c in topic_codes] for topic_codes in codes])


def txn_offset_commit_response(request: Any, codes: list[list[int]]) -> Any:
    R = TxnOffsetCommitResponse
    return R(throttle_time_ms=0, topics=[
        R.TxnOffsetCommitResponseTopic(name=t.name, partitions=[
            R.TxnOffsetCommitResponsePartition(partition_index=p.partition_index, error_code=c)
            for p, c in zip(t.partitions, topic_codes)])
        for t, topic_codes in zip(request.topics, codes)])


def fetch_offsets(store: OffsetStore, group: Group | None, request_group: Any, version: int,
                  require_stable: bool, image: Any) -> Any:
    """The OffsetFetchResponseGroup of one group of an OffsetFetch request (v8+ layout)."""
    R = OffsetFetchResponse
    group_id = request_group.group_id
    out = R.OffsetFetchResponseGroup(group_id=group_id, topics=[], error_code=ErrorCode.NONE)
    known = group is not None
    if group is not None:
        try:
            group.validate_offset_fetch(getattr(request_group, "member_id", None),
                                        getattr(request_group, "member_epoch", -1))
        except GroupError as e:
            if e.code != ErrorCode.GROUP_ID_NOT_FOUND:
                out.error_code = e.code
                return out
            known = False
    offsets = store.group_offsets(group_id) if known else {}

    def partition(topic: str, index: int) -> Any:
        if require_stable and store.has_pending(group_id, topic, index):
            return R.OffsetFetchResponsePartitions(partition_index=index, committed_offset=NO_OFFSET,
                                                   committed_leader_epoch=-1, metadata=NO_METADATA,
                                                   error_code=ErrorCode.UNSTABLE_OFFSET_COMMIT)
        entry = offsets.get(topic, {}).get(index)
        if entry is None:
            return R.OffsetFetchResponsePartitions(partition_index=index, committed_offset=NO_OFFSET,
                                                   committed_leader_epoch=-1, metadata=NO_METADATA,
                                                   error_code=ErrorCode.NONE)
        return R.OffsetFetchResponsePartitions(partition_index=index, committed_offset=entry.offset,
                                               committed_leader_epoch=entry.leader_epoch,
                                               metadata=entry.metadata, error_code=ErrorCode.NONE)

    if request_group.topics is None:
        for topic in sorted(offsets):
            topic_id = uuid.UUID(int=0)
            if version >= 10:
                topic_image = image.topic(topic)
                if topic_image is None:
                    continue  # v10 names topics by id: a deleted topic cannot be answered
                topic_id = topic_image.topic_id
            out.topics.append(R.OffsetFetchResponseTopics(
                name=topic, topic_id=topic_id,
                partitions=[partition(topic, p) for p in sorted(offsets[topic])]))
        return out
    for t in request_group.topics:
        if version >= 10:
            topic_image = image.topic_by_id(t.topic_id)
            if topic_image is None:
                out.topics.append(R.OffsetFetchResponseTopics(name="", topic_id=t.topic_id, partitions=[
                    R.OffsetFetchResponsePartitions(partition_index=p, committed_offset=NO_OFFSET,
                                                    committed_leader_epoch=-1, metadata=NO_METADATA,
                                                    error_code=ErrorCode.UNKNOWN_TOPIC_ID)
                    for p in t.partition_indexes]))
                continue
            name, topic_id = topic_image.name, t.topic_id
        else:
            name, topic_id = t.name, uuid.UUID(int=0)
        out.topics.append(R.OffsetFetchResponseTopics(
            name=name, topic_id=topic_id, partitions=[partition(name, p) for p in t.partition_indexes]))
    return out


def delete_offsets(store: OffsetStore, group: Group, request: Any) -> tuple[list[CoordinatorRecord], Any]:
    """OffsetDelete on an existing, validated group: tombstones and the response."""
    R = OffsetDeleteResponse
    records: list[CoordinatorRecord] = []
    topics = []
    offsets = store.group_offsets(group.group_id)
    for t in request.topics:
        subscribed = group.is_subscribed_to_topic(t.name)
        partitions = []
        for p in t.partitions:
            if subscribed:
                partitions.append(R.OffsetDeleteResponsePartition(
                    partition_index=p.partition_index, error_code=ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC))
                continue
            if p.partition_index in offsets.get(t.name, {}):
                records.append(rec.offset_commit_tombstone(group.group_id, t.name, p.partition_index))
            partitions.append(R.OffsetDeleteResponsePartition(partition_index=p.partition_index,
                                                              error_code=ErrorCode.NONE))
        topics.append(R.OffsetDeleteResponseTopic(name=t.name, partitions=partitions))
    return records, R(error_code=ErrorCode.NONE, throttle_time_ms=0, topics=topics)


def delete_all_offsets(store: OffsetStore, group_id: str) -> list[CoordinatorRecord]:
    """Tombstones for every committed and pending offset of a group (DeleteGroups)."""
    records = []
    seen: set[tuple[str, int]] = set()
    for topic, partitions in store.group_offsets(group_id).items():
        for partition in partitions:
            seen.add((topic, partition))
    seen.update(store.pending_partitions(group_id))
    for topic, partition in sorted(seen):
        records.append(rec.offset_commit_tombstone(group_id, topic, partition))
    return records


def expire_offsets(store: OffsetStore, group: Group, now_ms: int,
                   retention_ms: int) -> tuple[list[CoordinatorRecord], bool]:
    """Tombstones for a group's expired offsets, and whether every offset of it expired.

    An offset expires when its explicit expire timestamp (OffsetCommit v2-4) has passed, or
    `offsets.retention.minutes` after the base the group gives it: for an empty classic group the
    time it became empty, otherwise the commit time. Offsets of topics the group is subscribed to,
    and offsets with a pending transactional commit, do not expire.
    """
    group_id = group.group_id
    offsets = store.group_offsets(group_id)
    if not offsets:
        return [], not store.has_open_transactions(group_id)
    base = group.offset_expiration_base()
    if base is None:
        return [], False
    records = []
    all_expired = True
    for topic, partitions in sorted(offsets.items()):
        if group.is_subscribed_to_topic(topic):
            all_expired = False
            continue
        for partition, entry in sorted(partitions.items()):
            if entry.expire_timestamp_ms >= 0:
                expired = now_ms >= entry.expire_timestamp_ms
            else:
                expired = now_ms - base(entry.commit_timestamp_ms) >= retention_ms
            if expired and not store.has_pending(group_id, topic, partition):
                records.append(rec.offset_commit_tombstone(group_id, topic, partition))
            else:
                all_expired = False
    return records, all_expired and not store.has_open_transactions(group_id)


def expire_timestamp(retention_time_ms: int, now_ms: int) -> int:
    """OffsetCommit v2-4 retention time -> the record's expire timestamp (-1: broker default)."""
    return -1 if retention_time_ms == -1 else now_ms + retention_time_ms

