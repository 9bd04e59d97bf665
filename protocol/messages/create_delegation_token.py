"""CreateDelegationToken (key 38): create a delegation token."""

from protocol.schema import message

REQUEST = message(
    "CreateDelegationTokenRequest",
    api_key=38,
    kind="request",
    versions="0-3",
    flexible="2+",
    listeners=("broker", "controller"),
    fields="""
owner_principal_type  string               3+ nullable=3+
owner_principal_name  string               3+ nullable=3+
renewers              [CreatableRenewers]
  principal_type      string
  principal_name      string
max_lifetime_ms       int64
""",
)

RESPONSE = message(
    "CreateDelegationTokenResponse",
    api_key=38,
    kind="response",
    versions="0-3",
    flexible="2+",
    fields="""
error_code                      int16
principal_type                  string
principal_name                  string
token_requester_principal_type  string  3+
token_requester_principal_name  string  3+
issue_timestamp_ms              int64
expiry_timestamp_ms             int64
max_timestamp_ms                int64
token_id                        string
hmac                            bytes
throttle_time_ms                int32
""",
)
