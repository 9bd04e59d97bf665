"""AlterReplicaLogDirs (key 34): move replicas between log directories."""

from protocol.schema import message

REQUEST = message(
    "AlterReplicaLogDirsRequest",
    api_key=34,
    kind="request",
    versions="0-2",
    flexible="2+",
    listeners=("broker",),
    fields="""
dirs            [AlterReplicaLogDir]
  path          string                     key
  topics        [AlterReplicaLogDirTopic]
    name        string                     key entity=topicName
    partitions  [int32]
""",
)

RESPONSE = message(
    "AlterReplicaLogDirsResponse",
    api_key=34,
    kind="response",
    versions="0-2",
    flexible="2+",
    fields="""
throttle_time_ms     int32
results              [AlterReplicaLogDirTopicResult]
  topic_name         string                               entity=topicName
  partitions         [AlterReplicaLogDirPartitionResult]
    partition_index  int32
    error_code       int16
""",
)
