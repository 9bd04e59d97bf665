"""CreatePartitions (key 37): add partitions to existing topics."""

from protocol.schema import message

REQUEST = message(
    "CreatePartitionsRequest",
    api_key=37,
    kind="request",
    versions="0-3",
    flexible="2+",
    listeners=("broker", "controller"),
    fields="""
topics          [CreatePartitionsTopic]
  name          string                        key entity=topicName
  count         int32
  assignments   [CreatePartitionsAssignment]  nullable=0+
    broker_ids  [int32]                       entity=brokerId
timeout_ms      int32
validate_only   bool
""",
)

RESPONSE = message(
    "CreatePartitionsResponse",
    api_key=37,
    kind="response",
    versions="0-3",
    flexible="2+",
    fields="""
throttle_time_ms  int32
results           [CreatePartitionsTopicResult]
  name            string                         entity=topicName
  error_code      int16
  error_message   string                         nullable=0+ default=null
""",
)
