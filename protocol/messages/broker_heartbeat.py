"""BrokerHeartbeat (key 63): broker heartbeat to the controller."""

from protocol.schema import message

REQUEST = message(
    "BrokerHeartbeatRequest",
    api_key=63,
    kind="request",
    versions="0-1",
    flexible="0+",
    listeners=("controller",),
    fields="""
broker_id                int32   entity=brokerId
broker_epoch             int64   default=-1
current_metadata_offset  int64
want_fence               bool
want_shut_down           bool
offline_log_dirs         [uuid]  1+ tag=0
""",
)

RESPONSE = message(
    "BrokerHeartbeatResponse",
    api_key=63,
    kind="response",
    versions="0-1",
    flexible="0+",
    fields="""
throttle_time_ms  int32
error_code        int16
is_caught_up      bool   default=false
is_fenced         bool   default=true
should_shut_down  bool
""",
)
