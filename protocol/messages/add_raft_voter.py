"""AddRaftVoter (key 80): add a voter to the KRaft quorum."""

from protocol.schema import message

REQUEST = message(
    "AddRaftVoterRequest",
    api_key=80,
    kind="request",
    versions="0-1",
    flexible="0+",
    listeners=("controller", "broker"),
    fields="""
cluster_id          string      nullable=0+
timeout_ms          int32
voter_id            int32
voter_directory_id  uuid
listeners           [Listener]
  name              string      key
  host              string
  port              uint16
ack_when_committed  bool        1+ default=true
""",
)

RESPONSE = message(
    "AddRaftVoterResponse",
    api_key=80,
    kind="response",
    versions="0-1",
    flexible="0+",
    fields="""
throttle_time_ms  int32
error_code        int16
error_message     string  nullable=0+ ignorable
""",
)
