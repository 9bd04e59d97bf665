"""AlterPartitionReassignments (key 45): start or cancel partition reassignments."""

from protocol.schema import message

REQUEST = message(
    "AlterPartitionReassignmentsRequest",
    api_key=45,
    kind="request",
    versions="0-1",
    flexible="0+",
    listeners=("broker", "controller"),
    fields="""
timeout_ms                       int32                    default=60000
allow_replication_factor_change  bool                     1+ default=true
topics                           [ReassignableTopic]
  name                           string                   entity=topicName
  partitions                     [ReassignablePartition]
    partition_index              int32
    replicas                     [int32]                  nullable=0+ default=null entity=brokerId
""",
)

RESPONSE = message(
    "AlterPartitionReassignmentsResponse",
    api_key=45,
    kind="response",
    versions="0-1",
    flexible="0+",
    fields="""
throttle_time_ms                 int32
allow_replication_factor_change  bool                             1+ default=true ignorable
error_code                       int16
error_message                    string                           nullable=0+
responses                        [ReassignableTopicResponse]
  name                           string                           entity=topicName
  partitions                     [ReassignablePartitionResponse]
    partition_index              int32
    error_code                   int16
    error_message                string                           nullable=0+
""",
)
