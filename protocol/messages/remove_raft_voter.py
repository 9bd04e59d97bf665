"""RemoveRaftVoter (key 81): remove a voter from the KRaft quorum."""

from protocol.schema import message

REQUEST = message(
    "RemoveRaftVoterRequest",
    api_key=81,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("controller", "broker"),
    fields="""
cluster_id          string  nullable=0+
voter_id            int32
voter_directory_id  uuid
""",
)

RESPONSE = message(
    "RemoveRaftVoterResponse",
    api_key=81,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms  int32
error_code        int16
error_message     string  nullable=0+ ignorable
""",
)
