"""The metadata log's record types (Kafka's type ids and versions) and their framing.

A metadata record travels as the value of a record in a v2 batch, with a null key, framed as
Kafka frames it: unsigned varint frame version (1), unsigned varint record type, unsigned
varint record version, then the record's message encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from protocol import types as t
from protocol.compiler import Codec, classes_for, codec_for
from protocol.errors import DecodeError
from protocol.schema import MessageSpec, message

FRAME_VERSION = 1


def _record(name: str, versions: str, fields: str) -> MessageSpec:
    # Every metadata record Kafka writes today is flexible from version 0.
    return message(name, kind="data", versions=versions, flexible="0+", fields=fields)


REGISTER_BROKER = _record("RegisterBrokerRecord", "0-3", """
broker_id                 int32            entity=brokerId
is_migrating_zk_broker    bool             2+ default=false
incarnation_id            uuid
broker_epoch              int64
end_points                [BrokerEndpoint]
  name                    string           key
  host                    string
  port                    uint16
  security_protocol       int16
features                  [BrokerFeature]
  name                    string           key
  min_supported_version   int16
  max_supported_version   int16
rack                      string           nullable=0+
fenced                    bool             default=true
in_controlled_shutdown    bool             1+ default=false
log_dirs                  [uuid]           3+ tag=0
""")

UNREGISTER_BROKER = _record("UnregisterBrokerRecord", "0", """
broker_id     int32  entity=brokerId
broker_epoch  int64
""")

TOPIC = _record("TopicRecord", "0", """
name      string  entity=topicName
topic_id  uuid
""")

PARTITION = _record("PartitionRecord", "0-2", """
partition_id              int32    default=-1
topic_id                  uuid
replicas                  [int32]  entity=brokerId
isr                       [int32]
removing_replicas         [int32]  entity=brokerId
adding_replicas           [int32]  entity=brokerId
leader                    int32    default=-1 entity=brokerId
leader_recovery_state     int8     default=0 tag=0
leader_epoch              int32    default=-1
partition_epoch           int32    default=-1
directories               [uuid]   1+
eligible_leader_replicas  [int32]  2+ nullable=2+ default=null tag=1 entity=brokerId
last_known_elr            [int32]  2+ nullable=2+ default=null tag=2 entity=brokerId
""")

CONFIG = _record("ConfigRecord", "0", """
resource_type  int8
resource_name  string
name           string
value          string  nullable=0+
""")

PARTITION_CHANGE = _record("PartitionChangeRecord", "0-2", """
partition_id              int32    default=-1
topic_id                  uuid
isr                       [int32]  nullable=0+ default=null tag=0 entity=brokerId
leader                    int32    default=-2 tag=1 entity=brokerId
replicas                  [int32]  nullable=0+ default=null tag=2 entity=brokerId
removing_replicas         [int32]  nullable=0+ default=null tag=3 entity=brokerId
adding_replicas           [int32]  nullable=0+ default=null tag=4 entity=brokerId
leader_recovery_state     int8     default=-1 tag=5
directories               [uuid]   1+ nullable=1+ default=null tag=8
eligible_leader_replicas  [int32]  2+ nullable=2+ default=null tag=6 entity=brokerId
last_known_elr            [int32]  2+ nullable=2+ default=null tag=7 entity=brokerId
""")

FENCE_BROKER = _record("FenceBrokerRecord", "0", """
id     int32  entity=brokerId
epoch  int64
""")

UNFENCE_BROKER = _record("UnfenceBrokerRecord", "0", """
id     int32  entity=brokerId
epoch  int64
""")

REMOVE_TOPIC = _record("RemoveTopicRecord", "0", """
topic_id  uuid
""")

FEATURE_LEVEL = _record("FeatureLevelRecord", "0", """
name           string
feature_level  int16
""")

PRODUCER_IDS = _record("ProducerIdsRecord", "0", """
broker_id         int32  entity=brokerId
broker_epoch      int64  default=-1
next_producer_id  int64
""")

BROKER_REGISTRATION_CHANGE = _record("BrokerRegistrationChangeRecord", "0-2", """
broker_id               int32   entity=brokerId
broker_epoch            int64
fenced                  int8    tag=0
in_controlled_shutdown  int8    1+ tag=1
log_dirs                [uuid]  2+ tag=2
""")

NO_OP = _record("NoOpRecord", "0", "")


@dataclass(frozen=True, slots=True)
class RecordType:
    """One metadata record type: Kafka's id, its schema, and the version this broker writes."""

    id: int
    spec: MessageSpec
    write_version: int

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def cls(self) -> type:
        return classes_for(self.spec)[self.spec.name]

    def codec(self, version: int) -> Codec:
        return codec_for(self.spec, version)


# Write versions are those Kafka uses at metadata.version 4.0-IV3: directory assignment
# (KIP-858) on, eligible leader replicas (KIP-966) off.
RECORD_TYPES: dict[int, RecordType] = {
    rt.id: rt
    for rt in (
        RecordType(0, REGISTER_BROKER, 3),
        RecordType(1, UNREGISTER_BROKER, 0),
        RecordType(2, TOPIC, 0),
        RecordType(3, PARTITION, 1),
        RecordType(4, CONFIG, 0),
        RecordType(5, PARTITION_CHANGE, 1),
        RecordType(7, FENCE_BROKER, 0),
        RecordType(8, UNFENCE_BROKER, 0),
        RecordType(9, REMOVE_TOPIC, 0),
        RecordType(12, FEATURE_LEVEL, 0),
        RecordType(15, PRODUCER_IDS, 0),
        RecordType(17, BROKER_REGISTRATION_CHANGE, 2),
        RecordType(20, NO_OP, 0),
    )
}

_BY_CLASS: dict[type, RecordType] = {rt.cls: rt for rt in RECORD_TYPES.values()}

RegisterBrokerRecord = RECORD_TYPES[0].cls
BrokerEndpoint = RegisterBrokerRecord.BrokerEndpoint
BrokerFeature = RegisterBrokerRecord.BrokerFeature
UnregisterBrokerRecord = RECORD_TYPES[1].cls
TopicRecord = RECORD_TYPES[2].cls
PartitionRecord = RECORD_TYPES[3].cls
ConfigRecord = RECORD_TYPES[4].cls
PartitionChangeRecord = RECORD_TYPES[5].cls
FenceBrokerRecord = RECORD_TYPES[7].cls
UnfenceBrokerRecord = RECORD_TYPES[8].cls
RemoveTopicRecord = RECORD_TYPES[9].cls
FeatureLevelRecord = RECORD_TYPES[12].cls
ProducerIdsRecord = RECORD_TYPES[15].cls
BrokerRegistrationChangeRecord = RECORD_TYPES[17].cls
NoOpRecord = RECORD_TYPES[20].cls


class MetadataRecordError(DecodeError):
    """A metadata record frame that does not decode: unknown frame version, record type or
    version, a malformed body, or trailing bytes."""


def record_type_of(record: Any) -> RecordType:
    try:
        return _BY_CLASS[type(record)]
    except KeyError:
        raise TypeError(f"{type(record).__name__} is not a metadata record") from None


def encode_record(record: Any, version: int | None = None) -> bytes:
    """Frame one record (a generated record class instance) at `version` (default: the
    version this broker writes for its type)."""
    rt = record_type_of(record)
    v = rt.write_version if version is None else version
    out = bytearray()
    out += t.uvarint_bytes(FRAME_VERSION)
    out += t.uvarint_bytes(rt.id)
    out += t.uvarint_bytes(v)
    rt.codec(v).encode_into(record, out)
    return bytes(out)


def encode_records(records: Iterable[Any]) -> list[bytes]:
    return [encode_record(r) for r in records]


@dataclass(slots=True)
class DecodedRecord:
    """A decoded frame: the record and the type and version it was written with."""

    type_id: int
    version: int
    message: Any


def decode_frame(data: bytes | bytearray | memoryview) -> DecodedRecord:
    """Decode one framed metadata record; raise MetadataRecordError for anything malformed."""
    try:
        frame, pos = t.read_uvarint(data, 0)
        if frame != FRAME_VERSION:
            raise MetadataRecordError(f"unknown metadata record frame version {frame}")
        type_id, pos = t.read_uvarint(data, pos)
        version, pos = t.read_uvarint(data, pos)
    except MetadataRecordError:
        raise
    except DecodeError as exc:
        raise MetadataRecordError(f"truncated metadata record frame: {exc}") from None
    rt = RECORD_TYPES.get(type_id)
    if rt is None:
        raise MetadataRecordError(f"unknown metadata record type {type_id}")
    if version not in rt.spec.versions:
        raise MetadataRecordError(f"unsupported {rt.name} version {version}")
    try:
        msg, end = rt.codec(version).decode_at(data, pos)
    except DecodeError as exc:
        raise MetadataRecordError(f"malformed {rt.name} v{version}: {exc}") from None
    if end != len(data):
        raise MetadataRecordError(f"found {len(data) - end} byte(s) of garbage after {rt.name}")
    return DecodedRecord(type_id, version, msg)


def decode_record(data: bytes | bytearray | memoryview) -> Any:
    """The record of one frame (see decode_frame)."""
    return decode_frame(data).message
