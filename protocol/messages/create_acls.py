"""CreateAcls (key 30): create access control lists."""

from protocol.schema import message

REQUEST = message(
    "CreateAclsRequest",
    api_key=30,
    kind="request",
    versions="0-3",
    flexible="2+",
    listeners=("broker", "controller"),
    fields="""
creations                [AclCreation]
  resource_type          int8
  resource_name          string
  resource_pattern_type  int8           1+ default=3
  principal              string
  host                   string
  operation              int8
  permission_type        int8
""",
)

RESPONSE = message(
    "CreateAclsResponse",
    api_key=30,
    kind="response",
    versions="0-3",
    flexible="2+",
    fields="""
throttle_time_ms  int32
results           [AclCreationResult]
  error_code      int16
  error_message   string               nullable=0+
""",
)
