"""Produce (key 0): write record batches to partitions."""

from protocol.schema import message

REQUEST = message(
    "ProduceRequest",
    api_key=0,
    kind="request",
    versions="0-13",
    flexible="9+",
    listeners=("broker",),
    fields="""
transactional_id  string                  3+ nullable=3+ default=null entity=transactionalId
acks              int16
timeout_ms        int32
topic_data        [TopicProduceData]
  name            string                  0-12 ignorable key entity=topicName
  topic_id        uuid                    13+ ignorable key
  partition_data  [PartitionProduceData]
    index         int32
    records       records                 nullable=0+
""",
)

RESPONSE = message(
    "ProduceResponse",
    api_key=0,
    kind="response",
    versions="0-13",
    flexible="9+",
    fields="""
responses                        [TopicProduceResponse]
  name                           string                       0-12 ignorable key entity=topicName
  topic_id                       uuid                         13+ ignorable key
  partition_responses            [PartitionProduceResponse]
    index                        int32
    error_code                   int16
    base_offset                  int64
    log_append_time_ms           int64                        2+ default=-1 ignorable
    log_start_offset             int64                        5+ default=-1 ignorable
    record_errors                [BatchIndexAndErrorMessage]  8+ ignorable
      batch_index                int32                        8+
      batch_index_error_message  string                       8+ nullable=8+ default=null
    error_message                string                       8+ nullable=8+ default=null ignorable
    current_leader               LeaderIdAndEpoch             10+ tag=0
      leader_id                  int32                        10+ default=-1 entity=brokerId
      leader_epoch               int32                        10+ default=-1
throttle_time_ms                 int32                        1+ default=0 ignorable
node_endpoints                   [NodeEndpoint]               10+ tag=0
  node_id                        int32                        10+ key entity=brokerId
  host                           string                       10+
  port                           int32                        10+
  rack                           string                       10+ nullable=10+ default=null
""",
)
