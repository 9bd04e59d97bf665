"""DescribeUserScramCredentials (key 50): describe SCRAM credentials."""

from protocol.schema import message

REQUEST = message(
    "DescribeUserScramCredentialsRequest",
    api_key=50,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker", "controller"),
    fields="""
users   [UserName]  nullable=0+
  name  string
""",
)

RESPONSE = message(
    "DescribeUserScramCredentialsResponse",
    api_key=50,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms    int32
error_code          int16
error_message       string                                nullable=0+
results             [DescribeUserScramCredentialsResult]
  user              string
  error_code        int16
  error_message     string                                nullable=0+
  credential_infos  [CredentialInfo]
    mechanism       int8
    iterations      int32
""",
)
