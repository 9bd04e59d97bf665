"""ShareGroupHeartbeat (key 76): share group heartbeat."""

from protocol.schema import message

REQUEST = message(
    "ShareGroupHeartbeatRequest",
    api_key=76,
    kind="request",
    versions="0-1",
    flexible="0+",
    listeners=("broker",),
    fields="""
group_id                string    entity=groupId
member_id               string
member_epoch            int32
rack_id                 string    nullable=0+ default=null
subscribed_topic_names  [string]  nullable=0+ default=null
""",
)

RESPONSE = message(
    "ShareGroupHeartbeatResponse",
    api_key=76,
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
