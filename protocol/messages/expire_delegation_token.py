"""ExpireDelegationToken (key 40): expire a delegation token."""

from protocol.schema import message

REQUEST = message(
    "ExpireDelegationTokenRequest",
    api_key=40,
    kind="request",
    versions="0-2",
    flexible="2+",
    listeners=("broker", "controller"),
    fields="""
hmac                   bytes
expiry_time_period_ms  int64
""",
)

RESPONSE = message(
    "ExpireDelegationTokenResponse",
    api_key=40,
    kind="response",
    versions="0-2",
    flexible="2+",
    fields="""
error_code           int16
expiry_timestamp_ms  int64
throttle_time_ms     int32
""",
)
