"""AddPartitionsToTxn (key 24): add partitions to an ongoing transaction."""

from protocol.schema import message

REQUEST = message(
    "AddPartitionsToTxnRequest",
    api_key=24,
    kind="request",
    versions="0-5",
    flexible="3+",
    listeners=("broker",),
    fields="""
transactions                   [AddPartitionsToTxnTransaction]  4+
  transactional_id             string                           4+ key entity=transactionalId
  producer_id                  int64                            4+ entity=producerId
  producer_epoch               int16                            4+
  verify_only                  bool                             4+ default=false
  topics                       [AddPartitionsToTxnTopic]        4+
v3_and_below_transactional_id  string                           0-3 entity=transactionalId
v3_and_below_producer_id       int64                            0-3 entity=producerId
v3_and_below_producer_epoch    int16                            0-3
v3_and_below_topics            [AddPartitionsToTxnTopic]        0-3
""",
    structs="""
AddPartitionsToTxnTopic
  name        string   key entity=topicName
  partitions  [int32]
""",
)

RESPONSE = message(
    "AddPartitionsToTxnResponse",
    api_key=24,
    kind="response",
    versions="0-5",
    flexible="3+",
    fields="""
throttle_time_ms               int32
error_code                     int16                            4+ ignorable
results_by_transaction         [AddPartitionsToTxnResult]       4+
  transactional_id             string                           4+ key entity=transactionalId
  topic_results                [AddPartitionsToTxnTopicResult]  4+
results_by_topic_v3_and_below  [AddPartitionsToTxnTopicResult]  0-3
""",
    structs="""
AddPartitionsToTxnTopicResult
  name                  string                               key entity=topicName
  results_by_partition  [AddPartitionsToTxnPartitionResult]
AddPartitionsToTxnPartitionResult
  partition_index       int32  key
  partition_error_code  int16
""",
)
