"""EndQuorumEpoch (key 54): ask KRaft voters to start an election as the leader resigns."""

from protocol.schema import message

REQUEST = message(
    "EndQuorumEpochRequest",
    api_key=54,
    kind="request",
    versions="0-1",
    flexible="1+",
    listeners=("controller",),
    fields="""
cluster_id                    string            nullable=0+ default=null
topics                        [TopicData]
  topic_name                  string            entity=topicName
  partitions                  [PartitionData]
    partition_index           int32
    leader_id                 int32             entity=brokerId
    leader_epoch              int32
    preferred_successors      [int32]           0 ignorable
    preferred_candidates      [ReplicaInfo]     1+ ignorable
      candidate_id            int32             1+ entity=brokerId
      candidate_directory_id  uuid              1+
leader_endpoints              [LeaderEndpoint]  1+ ignorable
  name                        string            1+ key
  host                        string            1+
  port                        uint16            1+
""",
)

RESPONSE = message(
    "EndQuorumEpochResponse",
    api_key=54,
    kind="response",
    versions="0-1",
    flexible="1+",
    fields="""
error_code           int16
topics               [TopicData]
  topic_name         string           entity=topicName
  partitions         [PartitionData]
    partition_index  int32
    error_code       int16
    leader_id        int32            entity=brokerId
    leader_epoch     int32
node_endpoints       [NodeEndpoint]   1+ tag=0
  node_id            int32            1+ key entity=brokerId
  host               string           1+
  port               uint16           1+
""",
)
