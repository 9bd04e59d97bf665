"""OffsetCommit (key 8): store a consumer group's committed offsets."""

from protocol.schema import message

REQUEST = message(
    "OffsetCommitRequest",
    api_key=8,
    kind="request",
    versions="0-10",
    flexible="8+",
    listeners=("broker",),
    fields="""
group_id                       string                          entity=groupId
generation_id_or_member_epoch  int32                           1+ default=-1 ignorable
member_id                      string                          1+ ignorable
group_instance_id              string                          7+ nullable=7+ default=null
retention_time_ms              int64                           2-4 default=-1 ignorable
topics                         [OffsetCommitRequestTopic]
  name                         string                          0-9 ignorable entity=topicName
  topic_id                     uuid                            10+ ignorable
  partitions                   [OffsetCommitRequestPartition]
    partition_index            int32
    committed_offset           int64
    committed_leader_epoch     int32                           6+ default=-1 ignorable
    commit_timestamp           int64                           1 default=-1
    committed_metadata         string                          nullable=0+
""",
)

RESPONSE = message(
    "OffsetCommitResponse",
    api_key=8,
    kind="response",
    versions="0-10",
    flexible="8+",
    fields="""
throttle_time_ms     int32                            3+ ignorable
topics               [OffsetCommitResponseTopic]
  name               string                           0-9 ignorable entity=topicName
  topic_id           uuid                             10+ ignorable
  partitions         [OffsetCommitResponsePartition]
    partition_index  int32
    error_code       int16
""",
)
