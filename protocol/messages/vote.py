"""Vote (key 52): request a vote in a KRaft election."""

from protocol.schema import message

REQUEST = message(
    "VoteRequest",
    api_key=52,
    kind="request",
    versions="0-1",
    flexible="0+",
    listeners=("controller",),
    fields="""
cluster_id                  string           nullable=0+ default=null
voter_id                    int32            1+ default=-1 ignorable entity=brokerId
topics                      [TopicData]
  topic_name                string           entity=topicName
  partitions                [PartitionData]
    partition_index         int32
    candidate_epoch         int32
    candidate_id            int32            entity=brokerId
    candidate_directory_id  uuid             1+ ignorable
    voter_directory_id      uuid             1+ ignorable
    last_offset_epoch       int32
    last_offset             int64
""",
)

RESPONSE = message(
    "VoteResponse",
    api_key=52,
    kind="response",
    versions="0-1",
    flexible="0+",
    fields="""
error_code           int16
topics               [TopicData]
  topic_name         string           entity=topicName
  partitions         [PartitionData]
    partition_index  int32
    error_code       int16
    leader_id        int32            entity=brokerId
    leader_epoch     int32
    vote_granted     bool
node_endpoints       [NodeEndpoint]   1+ tag=0
  node_id            int32            1+ key entity=brokerId
  host               string           1+
  port               uint16           1+
""",
)
