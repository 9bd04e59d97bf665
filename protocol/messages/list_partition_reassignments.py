"""ListPartitionReassignments (key 46): list ongoing partition reassignments."""

from protocol.schema import message

REQUEST = message(
    "ListPartitionReassignmentsRequest",
    api_key=46,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker", "controller"),
    fields="""
timeout_ms           int32                               default=60000
topics               [ListPartitionReassignmentsTopics]  nullable=0+ default=null
  name               string                              entity=topicName
  partition_indexes  [int32]
""",
)

RESPONSE = message(
    "ListPartitionReassignmentsResponse",
    api_key=46,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms       int32
error_code             int16
error_message          string                          nullable=0+
topics                 [OngoingTopicReassignment]
  name                 string                          entity=topicName
  partitions           [OngoingPartitionReassignment]
    partition_index    int32
    replicas           [int32]                         entity=brokerId
    adding_replicas    [int32]                         entity=brokerId
    removing_replicas  [int32]                         entity=brokerId
""",
)
