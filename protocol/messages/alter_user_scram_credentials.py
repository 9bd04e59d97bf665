"""AlterUserScramCredentials (key 51): change SCRAM credentials."""

from protocol.schema import message

REQUEST = message(
    "AlterUserScramCredentialsRequest",
    api_key=51,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker", "controller"),
    fields="""
deletions          [ScramCredentialDeletion]
  name             string
  mechanism        int8
upsertions         [ScramCredentialUpsertion]
  name             string
  mechanism        int8
  iterations       int32
  salt             bytes
  salted_password  bytes
""",
)

RESPONSE = message(
    "AlterUserScramCredentialsResponse",
    api_key=51,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms  int32
results           [AlterUserScramCredentialsResult]
  user            string
  error_code      int16
  error_message   string                             nullable=0+
""",
)
