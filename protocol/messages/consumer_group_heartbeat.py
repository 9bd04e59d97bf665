"""ConsumerGroupHeartbeat (key 68): consumer group heartbeat of the KIP-848 protocol."""

from protocol.schema import message

REQUEST = message(
    "ConsumerGroupHeartbeatRequest",
    api_key=68,
    kind="request",
    versions="0-1",
    flexible="0+",
    listeners=("broker",),
    fields="""
group_id                string             entity=groupId
member_id               string
member_epoch            int32
instance_id             string             nullable=0+ default=null
rack_id                 string             nullable=0+ default=null
rebalance_timeout_ms    int32              default=-1
subscribed_topic_names  [string]           nullable=0+ default=null entity=topicName
subscribed_topic_regex  string             1+ nullable=1+ default=null
server_assignor         string             nullable=0+ default=null
topic_partitions        [TopicPartitions]  nullable=0+ default=null
  topic_id              uuid
  partitions            [int32]
""",
)

RESPONSE = message(
    "ConsumerGroupHeartbeatResponse",
    api_key=68,
    kind="response",
    versions="0-1",
    flexible="0+",
    fields="""
throttle_time_ms       int32
error_code             int16
error_message          string             nullable=0+ default=null
member_id              string             nullable=0+ default=null
member_epoch           int32
heartbeat_interval_ms  int32
assignment             Assignment         nullable=0+ default=null
  topic_partitions     [TopicPartitions]
""",
    structs="""
TopicPartitions
  topic_id    uuid
  partitions  [int32]
""",
)
