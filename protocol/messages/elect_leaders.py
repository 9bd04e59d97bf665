"""ElectLeaders (key 43): trigger preferred or unclean leader elections."""

from protocol.schema import message

REQUEST = message(
    "ElectLeadersRequest",
    api_key=43,
    kind="request",
    versions="0-2",
    flexible="2+",
    listeners=("broker", "controller"),
    fields="""
election_type     int8               1+
topic_partitions  [TopicPartitions]  nullable=0+
  topic           string             key entity=topicName
  partitions      [int32]
timeout_ms        int32              default=60000
""",
)

RESPONSE = message(
    "ElectLeadersResponse",
    api_key=43,
    kind="response",
    versions="0-2",
    flexible="2+",
    fields="""
throttle_time_ms          int32
error_code                int16                    1+
replica_election_results  [ReplicaElectionResult]
  topic                   string                   entity=topicName
  partition_result        [PartitionResult]
    partition_id          int32
    error_code            int16
    error_message         string                   nullable=0+
""",
)
