"""AlterPartition (key 56): change a partition's ISR or leader (from a leader to the controller)."""

from protocol.schema import message

REQUEST = message(
    "AlterPartitionRequest",
    api_key=56,
    kind="request",
    versions="0-3",
    flexible="0+",
    listeners=("controller",),
    fields="""
broker_id                  int32            entity=brokerId
broker_epoch               int64            default=-1
topics                     [TopicData]
  topic_name               string           0-1 ignorable entity=topicName
  topic_id                 uuid             2+ ignorable
  partitions               [PartitionData]
    partition_index        int32
    leader_epoch           int32
    new_isr                [int32]          0-2 entity=brokerId
    new_isr_with_epochs    [BrokerState]    3+
      broker_id            int32            3+ entity=brokerId
      broker_epoch         int64            3+ default=-1
    leader_recovery_state  int8             1+ default=0
    partition_epoch        int32
""",
)

RESPONSE = message(
    "AlterPartitionResponse",
    api_key=56,
    kind="response",
    versions="0-3",
    flexible="0+",
    fields="""
throttle_time_ms           int32
error_code                 int16
topics                     [TopicData]
  topic_name               string           0-1 ignorable entity=topicName
  topic_id                 uuid             2+ ignorable
  partitions               [PartitionData]
    partition_index        int32
    error_code             int16
    leader_id              int32            entity=brokerId
    leader_epoch           int32
    isr                    [int32]          entity=brokerId
    leader_recovery_state  int8             1+ default=0 ignorable
    partition_epoch        int32
""",
)
