"""The records of `__consumer_offsets`, byte-compatible with Apache Kafka's: their schemas, and
encoding to and decoding from CoordinatorRecords.

A record key is an int16 record type (Kafka calls it the key version) followed by the key struct;
a value is an int16 value version followed by the value struct, or null for a tombstone. The
types are Kafka's: 0 and 1 offset commits (0 is the legacy key, read but never written),
2 classic group metadata, 3-8 the KIP-848 consumer group records, 16 a consumer group's resolved
regular expression. Share and streams group records (9-15, 17+) are not read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from protocol.compiler import classes_for, codec_for
from protocol.errors import DecodeError
from protocol.schema import MessageSpec, message

from pybroker.coordinator.records import read_prefix, read_versioned_value, write_versioned
from pybroker.coordinator.shard import CoordinatorRecord



class RecordType(IntEnum):
    """Kafka's coordinator record types (the int16 that starts every key)."""

    LEGACY_OFFSET_COMMIT = 0
    OFFSET_COMMIT = 1
    GROUP_METADATA = 2
    CONSUMER_GROUP_METADATA = 3
    CONSUMER_GROUP_PARTITION_METADATA = 4
    CONSUMER_GROUP_MEMBER_METADATA = 5
    CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA = 6
    CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER = 7
    CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT = 8
    CONSUMER_GROUP_REGULAR_EXPRESSION = 16


# --- schemas ---------------------------------------------------------------------------------
# Keys are declared at the versions Kafka gives them: the record type itself.

OFFSET_COMMIT_KEY = message(
    "OffsetCommitKey", kind="data", versions="0-1",
    fields="""
group      string
topic      string
partition  int32
""",
)

# Kafka writes v3 (v1 when the commit carries an explicit expire timestamp, OffsetCommit v2-v4
# with a retention time). v4 is the flexible version, reserved for tagged fields.
OFFSET_COMMIT_VALUE = message(
    "OffsetCommitValue", kind="data", versions="0-4", flexible="4+",
    fields="""
offset            int64
leader_epoch      int32  3+ default=-1 ignorable
metadata          string
commit_timestamp  int64
expire_timestamp  int64  1 default=-1 ignorable
""",
)

GROUP_METADATA_KEY = message(
    "GroupMetadataKey", kind="data", versions="2",
    fields="""
group  string
""",
)

# Kafka writes v3.
GROUP_METADATA_VALUE = message(
    "GroupMetadataValue", kind="data", versions="0-4", flexible="4+",
    fields="""
protocol_type            string
generation               int32
protocol                 string            nullable=0+
leader                   string            nullable=0+
current_state_timestamp  int64             2+ default=-1 ignorable
members                  [MemberMetadata]
""",
    structs="""
MemberMetadata
  member_id          string
  group_instance_id  string  3+ nullable=3+ default=null ignorable
  client_id          string
  client_host        string
  rebalance_timeout  int32   1+ ignorable
  session_timeout    int32
  subscription       bytes
  assignment         bytes
""",
)

CONSUMER_GROUP_METADATA_KEY = message(
    "ConsumerGroupMetadataKey", kind="data", versions="3",
    fields="""
group_id  string
""",
)

CONSUMER_GROUP_METADATA_VALUE = message(
    "ConsumerGroupMetadataValue", kind="data", versions="0", flexible="0+",
    fields="""
epoch          int32
metadata_hash  int64  default=0 tag=0
""",
)

CONSUMER_GROUP_PARTITION_METADATA_KEY = message(
    "ConsumerGroupPartitionMetadataKey", kind="data", versions="4",
    fields="""
group_id  string
""",
)

CONSUMER_GROUP_PARTITION_METADATA_VALUE = message(
    "ConsumerGroupPartitionMetadataValue", kind="data", versions="0", flexible="0+",
    fields="""
epoch               int32
topics              [TopicMetadata]
  topic_id          uuid
  topic_name        string
  num_partitions    int32
  partition_racks   [PartitionMetadata]
    partition       int32
    racks           [string]
""",
)

CONSUMER_GROUP_MEMBER_METADATA_KEY = message(
    "ConsumerGroupMemberMetadataKey", kind="data", versions="5",
    fields="""
group_id   string
member_id  string
""",
)

CONSUMER_GROUP_MEMBER_METADATA_VALUE = message(
    "ConsumerGroupMemberMetadataValue", kind="data", versions="0", flexible="0+",
    fields="""
instance_id              string                 nullable=0+
rack_id                  string                 nullable=0+
client_id                string
client_host              string
subscribed_topic_names   [string]
subscribed_topic_regex   string                 nullable=0+
rebalance_timeout_ms     int32                  default=-1
server_assignor          string                 nullable=0+
classic_member_metadata  ClassicMemberMetadata  nullable=0+ default=null tag=0
  session_timeout_ms     int32
  supported_protocols    [ClassicProtocol]
    name                 string
    metadata             bytes
""",
)

CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_KEY = message(
    "ConsumerGroupTargetAssignmentMetadataKey", kind="data", versions="6",
    fields="""
group_id  string
""",
)

CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_VALUE = message(
    "ConsumerGroupTargetAssignmentMetadataValue", kind="data", versions="0", flexible="0+",
    fields="""
assignment_epoch      int32
assignment_timestamp  int64  default=0 tag=0 ignorable
""",
)

CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_KEY = message(
    "ConsumerGroupTargetAssignmentMemberKey", kind="data", versions="7",
    fields="""
group_id   string
member_id  string
""",
)

CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_VALUE = message(
    "ConsumerGroupTargetAssignmentMemberValue", kind="data", versions="0", flexible="0+",
    fields="""
topic_partitions  [TopicPartition]
  topic_id        uuid
  partitions      [int32]
""",
)

CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_KEY = message(
    "ConsumerGroupCurrentMemberAssignmentKey", kind="data", versions="8",
    fields="""
group_id   string
member_id  string
""",
)

CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_VALUE = message(
    "ConsumerGroupCurrentMemberAssignmentValue", kind="data", versions="0", flexible="0+",
    fields="""
member_epoch                   int32
previous_member_epoch          int32
state                          int8
assigned_partitions            [TopicPartitions]
partitions_pending_revocation  [TopicPartitions]
""",
    structs="""
TopicPartitions
  topic_id           uuid
  partitions         [int32]
  assignment_epochs  [int32]  nullable=0+ default=null tag=0
""",
)

CONSUMER_GROUP_REGULAR_EXPRESSION_KEY = message(
    "ConsumerGroupRegularExpressionKey", kind="data", versions="16",
    fields="""
group_id            string
regular_expression  string
""",
)

CONSUMER_GROUP_REGULAR_EXPRESSION_VALUE = message(
    "ConsumerGroupRegularExpressionValue", kind="data", versions="0", flexible="0+",
    fields="""
topics     [string]
version    int64
timestamp  int64
""",
)

# record type -> (key spec, value spec, the value version this broker writes)
SCHEMAS: dict[int, tuple[MessageSpec, MessageSpec, int]] = {
    RecordType.LEGACY_OFFSET_COMMIT: (OFFSET_COMMIT_KEY, OFFSET_COMMIT_VALUE, 3),
    RecordType.OFFSET_COMMIT: (OFFSET_COMMIT_KEY, OFFSET_COMMIT_VALUE, 3),
    RecordType.GROUP_METADATA: (GROUP_METADATA_KEY, GROUP_METADATA_VALUE, 3),
    RecordType.CONSUMER_GROUP_METADATA: (CONSUMER_GROUP_METADATA_KEY, CONSUMER_GROUP_METADATA_VALUE, 0),
    RecordType.CONSUMER_GROUP_PARTITION_METADATA: (
        CONSUMER_GROUP_PARTITION_METADATA_KEY, CONSUMER_GROUP_PARTITION_METADATA_VALUE, 0),
    RecordType.CONSUMER_GROUP_MEMBER_METADATA: (
        CONSUMER_GROUP_MEMBER_METADATA_KEY, CONSUMER_GROUP_MEMBER_METADATA_VALUE, 0),
    RecordType.CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA: (
        CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_KEY, CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_VALUE, 0),
    RecordType.CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER: (
        CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_KEY, CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_VALUE, 0),
    RecordType.CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT: (
        CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_KEY, CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_VALUE, 0),
    RecordType.CONSUMER_GROUP_REGULAR_EXPRESSION: (
        CONSUMER_GROUP_REGULAR_EXPRESSION_KEY, CONSUMER_GROUP_REGULAR_EXPRESSION_VALUE, 0),
}


def cls(spec: MessageSpec) -> type:
    """The generated class of a record schema (`cls(OFFSET_COMMIT_VALUE)(offset=...)`)."""
    return classes_for(spec)[spec.name]


OffsetCommitKey = cls(OFFSET_COMMIT_KEY)
OffsetCommitValue = cls(OFFSET_COMMIT_VALUE)
GroupMetadataKey = cls(GROUP_METADATA_KEY)
GroupMetadataValue = cls(GROUP_METADATA_VALUE)
MemberMetadata = GroupMetadataValue.MemberMetadata
ConsumerGroupMetadataKey = cls(CONSUMER_GROUP_METADATA_KEY)
ConsumerGroupMetadataValue = cls(CONSUMER_GROUP_METADATA_VALUE)
ConsumerGroupPartitionMetadataKey = cls(CONSUMER_GROUP_PARTITION_METADATA_KEY)
ConsumerGroupPartitionMetadataValue = cls(CONSUMER_GROUP_PARTITION_METADATA_VALUE)
ConsumerGroupMemberMetadataKey = cls(CONSUMER_GROUP_MEMBER_METADATA_KEY)
ConsumerGroupMemberMetadataValue = cls(CONSUMER_GROUP_MEMBER_METADATA_VALUE)
ConsumerGroupTargetAssignmentMetadataKey = cls(CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_KEY)
ConsumerGroupTargetAssignmentMetadataValue = cls(CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_VALUE)
ConsumerGroupTargetAssignmentMemberKey = cls(CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_KEY)
ConsumerGroupTargetAssignmentMemberValue = cls(CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_VALUE)
ConsumerGroupCurrentMemberAssignmentKey = cls(CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_KEY)
ConsumerGroupCurrentMemberAssignmentValue = cls(CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_VALUE)
ConsumerGroupRegularExpressionKey = cls(CONSUMER_GROUP_REGULAR_EXPRESSION_KEY)
ConsumerGroupRegularExpressionValue = cls(CONSUMER_GROUP_REGULAR_EXPRESSION_VALUE)


# --- encoding and decoding -------------------------------------------------------------------

class UnknownRecordType(DecodeError):
    """A key whose record type this broker does not read (share or streams groups)."""


@dataclass(frozen=True, slots=True)
class DecodedRecord:
    """A record of `__consumer_offsets` as structs: `value` is None for a tombstone."""

    type: int
    key: Any
    value: Any | None
    value_version: int = -1


def encode(rtype: int, key: Any, value: Any | None, value_version: int | None = None) -> CoordinatorRecord:
    """A CoordinatorRecord of `rtype` with the key and value structs (value None: tombstone).

    The value is written at the version Kafka writes unless `value_version` says otherwise.
    """
    key_spec, value_spec, default_version = SCHEMAS[rtype]
    key_bytes = write_versioned(rtype, key_spec, _key_version(rtype), key)
    if value is None:
        return CoordinatorRecord(key_bytes, None)
    version = default_version if value_version is None else value_version
    return CoordinatorRecord(key_bytes, write_versioned(version, value_spec, version, value))


def decode(record: CoordinatorRecord) -> DecodedRecord:
    """Decode a record's key and value; UnknownRecordType for types this broker does not read."""
    key = record.key
    rtype = read_prefix(key, "coordinator record key")
    schemas = SCHEMAS.get(rtype)
    if schemas is None:
        raise UnknownRecordType(f"unknown __consumer_offsets record type {rtype}")
    key_spec, value_spec, _ = schemas
    key_obj = codec_for(key_spec, _key_version(rtype)).decode(key, 2)
    if record.value is None:
        return DecodedRecord(rtype, key_obj, None)
    version, value_obj = read_versioned_value(record.value, value_spec)
    return DecodedRecord(rtype, key_obj, value_obj, version)


def _key_version(rtype: int) -> int:
    # The legacy offset commit key (type 0) has the same fields as type 1.
    return 1 if rtype == RecordType.LEGACY_OFFSET_COMMIT else rtype


# --- record builders -------------------------------------------------------------------------

def offset_commit_key(group: str, topic: str, partition: int) -> CoordinatorRecord:
    """The key bytes of an offset commit (for tombstones and lookups)."""
    return encode(RecordType.OFFSET_COMMIT, OffsetCommitKey(group=group, topic=topic, partition=partition), None)


def offset_commit(group: str, topic: str, partition: int, offset: int, leader_epoch: int,
                  metadata: str, commit_timestamp: int, expire_timestamp: int = -1) -> CoordinatorRecord:
    value = OffsetCommitValue(offset=offset, leader_epoch=leader_epoch, metadata=metadata,
                              commit_timestamp=commit_timestamp, expire_timestamp=expire_timestamp)
    # Kafka writes version 1 (with expireTimestamp) only for commits carrying a retention time.
    version = 1 if expire_timestamp >= 0 else 3
    return encode(RecordType.OFFSET_COMMIT, OffsetCommitKey(group=group, topic=topic, partition=partition),
                  value, version)


def offset_commit_tombstone(group: str, topic: str, partition: int) -> CoordinatorRecord:
    return offset_commit_key(group, topic, partition)


def group_metadata(group: str, value: Any) -> CoordinatorRecord:
    return encode(RecordType.GROUP_METADATA, GroupMetadataKey(group=group), value)


def group_metadata_tombstone(group: str) -> CoordinatorRecord:
    return encode(RecordType.GROUP_METADATA, GroupMetadataKey(group=group), None)


def consumer_group_epoch(group_id: str, epoch: int, metadata_hash: int) -> CoordinatorRecord:
    return encode(RecordType.CONSUMER_GROUP_METADATA, ConsumerGroupMetadataKey(group_id=group_id),
                  ConsumerGroupMetadataValue(epoch=epoch, metadata_hash=metadata_hash))


def consumer_group_epoch_tombstone(group_id: str) -> CoordinatorRecord:
    return encode(RecordType.CONSUMER_GROUP_METADATA, ConsumerGroupMetadataKey(group_id=group_id), None)


def consumer_group_partition_metadata_tombstone(group_id: str) -> CoordinatorRecord:
    return encode(RecordType.CONSUMER_GROUP_PARTITION_METADATA,
                  ConsumerGroupPartitionMetadataKey(group_id=group_id), None)


def consumer_group_member_metadata(group_id: str, member_id: str, value: Any) -> CoordinatorRecord:
    return encode(RecordType.CONSUMER_GROUP_MEMBER_METADATA,
                  ConsumerGroupMemberMetadataKey(group_id=group_id, member_id=member_id), value)


def consumer_group_member_metadata_tombstone(group_id: str, member_id: str) -> CoordinatorRecord:
    return consumer_group_member_metadata(group_id, member_id, None)


def consumer_group_target_assignment_epoch(group_id: str, epoch: int) -> CoordinatorRecord:
    return encode(RecordType.CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA,
                  ConsumerGroupTargetAssignmentMetadataKey(group_id=group_id),
                  ConsumerGroupTargetAssignmentMetadataValue(assignment_epoch=epoch))


def consumer_group_target_assignment_epoch_tombstone(group_id: str) -> CoordinatorRecord:
    return encode(RecordType.CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA,
                  ConsumerGroupTargetAssignmentMetadataKey(group_id=group_id), None)


def _topic_partitions(cls_: type, assignment: dict[uuid.UUID, Any]) -> list[Any]:
    return [cls_(topic_id=tid, partitions=sorted(parts)) for tid, parts in sorted(assignment.items())
            if parts]


def consumer_group_target_assignment(group_id: str, member_id: str,
                                     assignment: dict[uuid.UUID, Any]) -> CoordinatorRecord:
    value = ConsumerGroupTargetAssignmentMemberValue(topic_partitions=_topic_partitions(
        ConsumerGroupTargetAssignmentMemberValue.TopicPartition, assignment))
    return encode(RecordType.CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER,
                  ConsumerGroupTargetAssignmentMemberKey(group_id=group_id, member_id=member_id), value)


def consumer_group_target_assignment_tombstone(group_id: str, member_id: str) -> CoordinatorRecord:
    return encode(RecordType.CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER,
                  ConsumerGroupTargetAssignmentMemberKey(group_id=group_id, member_id=member_id), None)


def consumer_group_current_assignment(group_id: str, member_id: str, member_epoch: int,
                                      previous_member_epoch: int, state: int,
                                      assigned: dict[uuid.UUID, Any],
                                      pending_revocation: dict[uuid.UUID, Any]) -> CoordinatorRecord:
    tp = ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions
    value = ConsumerGroupCurrentMemberAssignmentValue(
        member_epoch=member_epoch, previous_member_epoch=previous_member_epoch, state=state,
        assigned_partitions=_topic_partitions(tp, assigned),
        partitions_pending_revocation=_topic_partitions(tp, pending_revocation))
    return encode(RecordType.CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT,
                  ConsumerGroupCurrentMemberAssignmentKey(group_id=group_id, member_id=member_id), value)


def consumer_group_current_assignment_tombstone(group_id: str, member_id: str) -> CoordinatorRecord:
    return encode(RecordType.CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT,
                  ConsumerGroupCurrentMemberAssignmentKey(group_id=group_id, member_id=member_id), None)


def consumer_group_regex(group_id: str, regex: str, topics: list[str], version: int,
                         timestamp: int) -> CoordinatorRecord:
    return encode(RecordType.CONSUMER_GROUP_REGULAR_EXPRESSION,
                  ConsumerGroupRegularExpressionKey(group_id=group_id, regular_expression=regex),
                  ConsumerGroupRegularExpressionValue(topics=sorted(topics), version=version,
                                                      timestamp=timestamp))


def consumer_group_regex_tombstone(group_id: str, regex: str) -> CoordinatorRecord:
    return encode(RecordType.CONSUMER_GROUP_REGULAR_EXPRESSION,
                  ConsumerGroupRegularExpressionKey(group_id=group_id, regular_expression=regex), None)
