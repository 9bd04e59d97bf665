"""BeginQuorumEpoch (key 53): announce a new KRaft leader and its epoch."""

from protocol.schema import message

REQUEST = message(
    "BeginQuorumEpochRequest",
    api_key=53,
    kind="request",
    versions="0-1",
    flexible="1+",
    listeners=("controller",),
    fields="""
cluster_id              string            nullable=0+ default=null
voter_id                int32             1+ default=-1 ignorable entity=brokerId
topics                  [TopicData]
  topic_name            string            entity=topicName
  partitions            [PartitionData]
    partition_index     int32
    voter_directory_id  uuid              1+ ignorable
    leader_id           int32             entity=brokerId
    leader_epoch        int32
leader_endpoints        [LeaderEndpoint]  1+ ignorable
  name                  string            1+ key
  host                  string            1+
  port                  uint16            1+
""",
)

RESPONSE = message(
    "BeginQuorumEpochResponse",
    api_key=53,
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
