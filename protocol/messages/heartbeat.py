"""Heartbeat (key 12): keep a classic group membership alive."""

from protocol.schema import message

REQUEST = message(
    "HeartbeatRequest",
    api_key=12,
    kind="request",
    versions="0-4",
    flexible="4+",
    listeners=("broker",),
    fields="""
group_id           string  entity=groupId
generation_id      int32
member_id          string
group_instance_id  string  3+ nullable=3+ default=null
""",
)

RESPONSE = message(
    "HeartbeatResponse",
    api_key=12,
    kind="response",
    versions="0-4",
    flexible="4+",
    fields="""
throttle_time_ms  int32  1+ ignorable
error_code        int16
""",
)
