"""JoinGroup (key 11): join a consumer group (classic protocol)."""

from protocol.schema import message

REQUEST = message(
    "JoinGroupRequest",
    api_key=11,
    kind="request",
    versions="0-9",
    flexible="6+",
    listeners=("broker",),
    fields="""
group_id              string                      entity=groupId
session_timeout_ms    int32
rebalance_timeout_ms  int32                       1+ default=-1 ignorable
member_id             string
group_instance_id     string                      5+ nullable=5+ default=null
protocol_type         string
protocols             [JoinGroupRequestProtocol]
  name                string                      key
  metadata            bytes
reason                string                      8+ nullable=8+ default=null ignorable
""",
)

RESPONSE = message(
    "JoinGroupResponse",
    api_key=11,
    kind="response",
    versions="0-9",
    flexible="6+",
    fields="""
throttle_time_ms     int32                      2+ ignorable
error_code           int16
generation_id        int32                      default=-1
protocol_type        string                     7+ nullable=7+ default=null ignorable
protocol_name        string                     nullable=7+
leader               string
skip_assignment      bool                       9+ default=false
member_id            string
members              [JoinGroupResponseMember]
  member_id          string
  group_instance_id  string                     5+ nullable=5+ default=null ignorable
  metadata           bytes
""",
)
