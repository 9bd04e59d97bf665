"""DescribeTopicPartitions (key 75): describe topics and partitions, paginated."""

from protocol.schema import message

REQUEST = message(
    "DescribeTopicPartitionsRequest",
    api_key=75,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker",),
    fields="""
topics                    [TopicRequest]
  name                    string          entity=topicName
response_partition_limit  int32           default=2000
cursor                    Cursor          nullable=0+ default=null
  topic_name              string          entity=topicName
  partition_index         int32
""",
)

RESPONSE = message(
    "DescribeTopicPartitionsResponse",
    api_key=75,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms               int32                                       ignorable
topics                         [DescribeTopicPartitionsResponseTopic]
  error_code                   int16
  name                         string                                      nullable=0+ key entity=topicName
  topic_id                     uuid                                        ignorable
  is_internal                  bool                                        default=false ignorable
  partitions                   [DescribeTopicPartitionsResponsePartition]
    error_code                 int16
    partition_index            int32
    leader_id                  int32                                       entity=brokerId
    leader_epoch               int32                                       default=-1 ignorable
    replica_nodes              [int32]                                     entity=brokerId
    isr_nodes                  [int32]                                     entity=brokerId
    eligible_leader_replicas   [int32]                                     nullable=0+ default=null entity=brokerId
    last_known_elr             [int32]                                     nullable=0+ default=null entity=brokerId
    offline_replicas           [int32]                                     ignorable entity=brokerId
  topic_authorized_operations  int32                                       default=-2147483648
next_cursor                    Cursor                                      nullable=0+ default=null
  topic_name                   string                                      entity=topicName
  partition_index              int32
""",
)
