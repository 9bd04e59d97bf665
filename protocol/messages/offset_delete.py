"""OffsetDelete (key 47): delete a group's committed offsets for some partitions."""

from protocol.schema import message

REQUEST = message(
    "OffsetDeleteRequest",
    api_key=47,
    kind="request",
    versions="0",
    listeners=("broker",),
    fields="""
group_id             string                          entity=groupId
topics               [OffsetDeleteRequestTopic]
  name               string                          key entity=topicName
  partitions         [OffsetDeleteRequestPartition]
    partition_index  int32
""",
)

RESPONSE = message(
    "OffsetDeleteResponse",
    api_key=47,
    kind="response",
    versions="0",
    fields="""
error_code           int16
throttle_time_ms     int32                            ignorable
topics               [OffsetDeleteResponseTopic]
  name               string                           key entity=topicName
  partitions         [OffsetDeleteResponsePartition]
    partition_index  int32                            key
    error_code       int16
""",
)
