"""AssignReplicasToDirs (key 73): assign replicas to log directories."""

from protocol.schema import message

REQUEST = message(
    "AssignReplicasToDirsRequest",
    api_key=73,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("controller",),
    fields="""
broker_id              int32            entity=brokerId
broker_epoch           int64            default=-1
directories            [DirectoryData]
  id                   uuid
  topics               [TopicData]
    topic_id           uuid
    partitions         [PartitionData]
      partition_index  int32
""",
)

RESPONSE = message(
    "AssignReplicasToDirsResponse",
    api_key=73,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms       int32
error_code             int16
directories            [DirectoryData]
  id                   uuid
  topics               [TopicData]
    topic_id           uuid
    partitions         [PartitionData]
      partition_index  int32
      error_code       int16
""",
)
