"""OffsetForLeaderEpoch (key 23): find the end offset of a leader epoch, for log truncation."""

from protocol.schema import message

REQUEST = message(
    "OffsetForLeaderEpochRequest",
    api_key=23,
    kind="request",
    versions="0-4",
    flexible="4+",
    listeners=("broker",),
    fields="""
replica_id                int32                       3+ default=-2 ignorable entity=brokerId
topics                    [OffsetForLeaderTopic]
  topic                   string                      key entity=topicName
  partitions              [OffsetForLeaderPartition]
    partition             int32
    current_leader_epoch  int32                       2+ default=-1 ignorable
    leader_epoch          int32
""",
)

RESPONSE = message(
    "OffsetForLeaderEpochResponse",
    api_key=23,
    kind="response",
    versions="0-4",
    flexible="4+",
    fields="""
throttle_time_ms  int32                         2+ ignorable
topics            [OffsetForLeaderTopicResult]
  topic           string                        key entity=topicName
  partitions      [EpochEndOffset]
    error_code    int16
    partition     int32
    leader_epoch  int32                         1+ default=-1 ignorable
    end_offset    int64                         default=-1
""",
)
