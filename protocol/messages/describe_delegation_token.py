"""DescribeDelegationToken (key 41): describe delegation tokens."""

from protocol.schema import message

REQUEST = message(
    "DescribeDelegationTokenRequest",
    api_key=41,
    kind="request",
    versions="0-3",
    flexible="2+",
    listeners=("broker", "controller"),
    fields="""
owners            [DescribeDelegationTokenOwner]  nullable=0+
  principal_type  string
  principal_name  string
""",
)

RESPONSE = message(
    "DescribeDelegationTokenResponse",
    api_key=41,
    kind="response",
    versions="0-3",
    flexible="2+",
    fields="""
error_code                        int16
tokens                            [DescribedDelegationToken]
  principal_type                  string
  principal_name                  string
  token_requester_principal_type  string                             3+
  token_requester_principal_name  string                             3+
  issue_timestamp                 int64
  expiry_timestamp                int64
  max_timestamp                   int64
  token_id                        string
  hmac                            bytes
  renewers                        [DescribedDelegationTokenRenewer]
    principal_type                string
    principal_name                string
throttle_time_ms                  int32
""",
)
