"""DescribeProducers (key 61): describe the active producers of partitions."""

from protocol.schema import message

REQUEST = message(
    "DescribeProducersRequest",
    api_key=61,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker",),
    fields="""
topics               [TopicRequest]
  name               string          entity=topicName
  partition_indexes  [int32]
""",
)

RESPONSE = message(
    "DescribeProducersResponse",
    api_key=61,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms                int32
topics                          [TopicResponse]
  name                          string               entity=topicName
  partitions                    [PartitionResponse]
    partition_index             int32
    error_code                  int16
    error_message               string               nullable=0+ default=null
    active_producers            [ProducerState]
      producer_id               int64                entity=producerId
      producer_epoch            int32
      last_sequence             int32                default=-1
      last_timestamp            int64                default=-1
      coordinator_epoch         int32
      current_txn_start_offset  int64                default=-1
""",
)
