"""OffsetFetch (key 9): read a consumer group's committed offsets."""

from protocol.schema import message

REQUEST = message(
    "OffsetFetchRequest",
    api_key=9,
    kind="request",
    versions="0-10",
    flexible="6+",
    listeners=("broker",),
    fields="""
group_id               string                      0-7 entity=groupId
topics                 [OffsetFetchRequestTopic]   0-7 nullable=2-7
  name                 string                      0-7 entity=topicName
  partition_indexes    [int32]                     0-7
groups                 [OffsetFetchRequestGroup]   8+
  group_id             string                      8+ entity=groupId
  member_id            string                      9+ nullable=9+ default=null ignorable
  member_epoch         int32                       9+ default=-1 ignorable
  topics               [OffsetFetchRequestTopics]  8+ nullable=8+
    name               string                      8-9 ignorable entity=topicName
    topic_id           uuid                        10+ ignorable
    partition_indexes  [int32]                     8+
require_stable         bool                        7+ default=false
""",
)

RESPONSE = message(
    "OffsetFetchResponse",
    api_key=9,
    kind="response",
    versions="0-10",
    flexible="6+",
    fields="""
throttle_time_ms              int32                            3+ ignorable
topics                        [OffsetFetchResponseTopic]       0-7
  name                        string                           0-7 entity=topicName
  partitions                  [OffsetFetchResponsePartition]   0-7
    partition_index           int32                            0-7
    committed_offset          int64                            0-7
    committed_leader_epoch    int32                            5-7 default=-1 ignorable
    metadata                  string                           0-7 nullable=0-7
    error_code                int16                            0-7
error_code                    int16                            2-7 default=0 ignorable
groups                        [OffsetFetchResponseGroup]       8+
  group_id                    string                           8+ entity=groupId
  topics                      [OffsetFetchResponseTopics]      8+
    name                      string                           8-9 ignorable entity=topicName
    topic_id                  uuid                             10+ ignorable
    partitions                [OffsetFetchResponsePartitions]  8+
      partition_index         int32                            8+
      committed_offset        int64                            8+
      committed_leader_epoch  int32                            8+ default=-1 ignorable
      metadata                string                           8+ nullable=8+
      error_code              int16                            8+
  error_code                  int16                            8+ default=0
""",
)
