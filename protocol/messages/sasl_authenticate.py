"""SaslAuthenticate (key 36): carry SASL authentication bytes."""

from protocol.schema import message

REQUEST = message(
    "SaslAuthenticateRequest",
    api_key=36,
    kind="request",
    versions="0-2",
    flexible="2+",
    listeners=("broker", "controller"),
    fields="""
auth_bytes  bytes
""",
)

RESPONSE = message(
    "SaslAuthenticateResponse",
    api_key=36,
    kind="response",
    versions="0-2",
    flexible="2+",
    fields="""
error_code           int16
error_message        string  nullable=0+
auth_bytes           bytes
session_lifetime_ms  int64   1+ default=0 ignorable
""",
)
