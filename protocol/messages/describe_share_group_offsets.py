"""DescribeShareGroupOffsets (key 90): the start offsets of share groups' partitions."""

from protocol.schema import message

REQUEST = message(
    "DescribeShareGroupOffsetsRequest",
    api_key=90,
    kind="request",
    versions="0-1",
    flexible="0+",
    listeners=("broker",),
    fields="""
groups            [DescribeShareGroupOffsetsRequestGroup]
  group_id        string                                   entity=groupId
  topics          [DescribeShareGroupOffsetsRequestTopic]  nullable=0+
    topic_name    string                                   entity=topicName
    partitions    [int32]
""",
)

RESPONSE = message(
    "DescribeShareGroupOffsetsResponse",
    api_key=90,
    kind="response",
    versions="0-1",
    flexible="0+",
    fields="""
throttle_time_ms       int32
groups                 [DescribeShareGroupOffsetsResponseGroup]
  group_id             string                                       entity=groupId
  topics               [DescribeShareGroupOffsetsResponseTopic]
    topic_name         string                                       entity=topicName
    topic_id           uuid
    partitions         [DescribeShareGroupOffsetsResponsePartition]
      partition_index  int32
      start_offset     int64
      leader_epoch     int32
      lag              int64                                        1+ default=-1
      error_code       int16
      error_message    string                                       nullable=0+ default=null
  error_code           int16
  error_message        string                                       nullable=0+ default=null
""",
)
