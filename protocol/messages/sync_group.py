"""SyncGroup (key 14): distribute a classic group's assignments from its leader to members."""

from protocol.schema import message

REQUEST = message(
    "SyncGroupRequest",
    api_key=14,
    kind="request",
    versions="0-5",
    flexible="4+",
    listeners=("broker",),
    fields="""
group_id           string                        entity=groupId
generation_id      int32
member_id          string
group_instance_id  string                        3+ nullable=3+ default=null
protocol_type      string                        5+ nullable=5+ default=null ignorable
protocol_name      string                        5+ nullable=5+ default=null ignorable
assignments        [SyncGroupRequestAssignment]
  member_id        string
  assignment       bytes
""",
)

RESPONSE = message(
    "SyncGroupResponse",
    api_key=14,
    kind="response",
    versions="0-5",
    flexible="4+",
    fields="""
throttle_time_ms  int32   1+ ignorable
error_code        int16
protocol_type     string  5+ nullable=5+ default=null ignorable
protocol_name     string  5+ nullable=5+ default=null ignorable
assignment        bytes
""",
)
