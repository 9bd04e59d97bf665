"""RenewDelegationToken (key 39): renew a delegation token."""

from protocol.schema import message

REQUEST = message(
    "RenewDelegationTokenRequest",
    api_key=39,
    kind="request",
    versions="0-2",
    flexible="2+",
    listeners=("broker", "controller"),
    fields="""
hmac             bytes
renew_period_ms  int64
""",
)

RESPONSE = message(
    "RenewDelegationTokenResponse",
    api_key=39,
    kind="response",
    versions="0-2",
    flexible="2+",
    fields="""
error_code           int16
expiry_timestamp_ms  int64
throttle_time_ms     int32
""",
)
