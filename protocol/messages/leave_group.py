"""LeaveGroup (key 13): leave a classic consumer group."""

from protocol.schema import message

REQUEST = message(
    "LeaveGroupRequest",
    api_key=13,
    kind="request",
    versions="0-5",
    flexible="4+",
    listeners=("broker",),
    fields="""
group_id             string            entity=groupId
member_id            string            0-2
members              [MemberIdentity]  3+
  member_id          string            3+
  group_instance_id  string            3+ nullable=3+ default=null
  reason             string            5+ nullable=5+ default=null ignorable
""",
)

RESPONSE = message(
    "LeaveGroupResponse",
    api_key=13,
    kind="response",
    versions="0-5",
    flexible="4+",
    fields="""
throttle_time_ms     int32             1+ ignorable
error_code           int16
members              [MemberResponse]  3+
  member_id          string            3+
  group_instance_id  string            3+ nullable=3+
  error_code         int16             3+
""",
)
