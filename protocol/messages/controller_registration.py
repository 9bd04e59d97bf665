"""ControllerRegistration (key 70): register a controller with the quorum."""

from protocol.schema import message

REQUEST = message(
    "ControllerRegistrationRequest",
    api_key=70,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("controller",),
    fields="""
controller_id            int32
incarnation_id           uuid
zk_migration_ready       bool
listeners                [Listener]
  name                   string      key
  host                   string
  port                   uint16
  security_protocol      int16
features                 [Feature]
  name                   string      key
  min_supported_version  int16
  max_supported_version  int16
""",
)

RESPONSE = message(
    "ControllerRegistrationResponse",
    api_key=70,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms  int32
error_code        int16
error_message     string  nullable=0+
""",
)
