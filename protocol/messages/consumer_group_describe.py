"""ConsumerGroupDescribe (key 69): describe KIP-848 consumer groups."""

from protocol.schema import message

REQUEST = message(
    "ConsumerGroupDescribeRequest",
    api_key=69,
    kind="request",
    versions="0-1",
    flexible="0+",
    listeners=("broker",),
    fields="""
group_ids                      [string]  entity=groupId
include_authorized_operations  bool
""",
)

RESPONSE = message(
    "ConsumerGroupDescribeResponse",
    api_key=69,
    kind="response",
    versions="0-1",
    flexible="0+",
    fields="""
throttle_time_ms            int32
groups                      [DescribedGroup]
  error_code                int16
  error_message             string            nullable=0+ default=null
  group_id                  string            entity=groupId
  group_state               string
  group_epoch               int32
  assignment_epoch          int32
  assignor_name             string
  members                   [Member]
    member_id               string
    instance_id             string            nullable=0+ default=null
    rack_id                 string            nullable=0+ default=null
    member_epoch            int32
    client_id               string
    client_host             string
    subscribed_topic_names  [string]          entity=topicName
    subscribed_topic_regex  string            nullable=0+ default=null
    assignment              Assignment
    target_assignment       Assignment
    member_type             int8              1+ default=-1 ignorable
  authorized_operations     int32             default=-2147483648
""",
    structs="""
TopicPartitions
  topic_id    uuid
  topic_name  string   entity=topicName
  partitions  [int32]
Assignment
  topic_partitions  [TopicPartitions]
""",
)
