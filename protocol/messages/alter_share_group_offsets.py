"""AlterShareGroupOffsets (key 91): set the start offsets of a share group's partitions."""

from protocol.schema import message

REQUEST = message(
    "AlterShareGroupOffsetsRequest",
    api_key=91,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker",),
    fields="""
group_id             string                                    entity=groupId
topics               [AlterShareGroupOffsetsRequestTopic]
  topic_name         string                                    entity=topicName
  partitions         [AlterShareGroupOffsetsRequestPartition]
    partition_index  int32
    start_offset     int64
""",
)

RESPONSE = message(
    "AlterShareGroupOffsetsResponse",
    api_key=91,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms     int32
error_code           int16
error_message        string                                     nullable=0+ default=null
responses            [AlterShareGroupOffsetsResponseTopic]
  topic_name         string                                     entity=topicName
  topic_id           uuid
  partitions         [AlterShareGroupOffsetsResponsePartition]
    partition_index  int32
    error_code       int16
    error_message    string                                     nullable=0+ default=null
""",
)
