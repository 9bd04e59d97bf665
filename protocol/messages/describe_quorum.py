"""DescribeQuorum (key 55): describe the KRaft metadata quorum."""

from protocol.schema import message

REQUEST = message(
    "DescribeQuorumRequest",
    api_key=55,
    kind="request",
    versions="0-2",
    flexible="0+",
    listeners=("broker", "controller"),
    fields="""
topics               [TopicData]
  topic_name         string           entity=topicName
  partitions         [PartitionData]
    partition_index  int32
""",
)

RESPONSE = message(
    "DescribeQuorumResponse",
    api_key=55,
    kind="response",
    versions="0-2",
    flexible="0+",
    fields="""
error_code           int16
error_message        string           2+ nullable=2+ ignorable
topics               [TopicData]
  topic_name         string           entity=topicName
  partitions         [PartitionData]
    partition_index  int32
    error_code       int16
    error_message    string           2+ nullable=2+ ignorable
    leader_id        int32            entity=brokerId
    leader_epoch     int32
    high_watermark   int64
    current_voters   [ReplicaState]
    observers        [ReplicaState]
nodes                [Node]           2+
  node_id            int32            2+ key entity=brokerId
  listeners          [Listener]       2+
    name             string           2+ key
    host             string           2+
    port             uint16           2+
""",
    structs="""
ReplicaState
  replica_id                int32  entity=brokerId
  replica_directory_id      uuid   2+
  log_end_offset            int64
  last_fetch_timestamp      int64  1+ default=-1 ignorable
  last_caught_up_timestamp  int64  1+ default=-1 ignorable
""",
)
