"""ListOffsets (key 2): find offsets by timestamp or position (earliest, latest, max timestamp)."""

from protocol.schema import message

REQUEST = message(
    "ListOffsetsRequest",
    api_key=2,
    kind="request",
    versions="0-11",
    flexible="6+",
    listeners=("broker",),
    fields="""
replica_id                int32                   entity=brokerId
isolation_level           int8                    2+
topics                    [ListOffsetsTopic]
  name                    string                  entity=topicName
  partitions              [ListOffsetsPartition]
    partition_index       int32
    current_leader_epoch  int32                   4+ default=-1 ignorable
    timestamp             int64
    max_num_offsets       int32                   0 default=1
timeout_ms                int32                   10+ ignorable
""",
)

RESPONSE = message(
    "ListOffsetsResponse",
    api_key=2,
    kind="response",
    versions="0-11",
    flexible="6+",
    fields="""
throttle_time_ms       int32                           2+ ignorable
topics                 [ListOffsetsTopicResponse]
  name                 string                          entity=topicName
  partitions           [ListOffsetsPartitionResponse]
    partition_index    int32
    error_code         int16
    old_style_offsets  [int64]                         0
    timestamp          int64                           1+ default=-1
    offset             int64                           1+ default=-1
    leader_epoch       int32                           4+ default=-1
""",
)
