"""AlterConfigs (key 33): replace topic and broker configurations."""

from protocol.schema import message

REQUEST = message(
    "AlterConfigsRequest",
    api_key=33,
    kind="request",
    versions="0-2",
    flexible="2+",
    listeners=("broker", "controller"),
    fields="""
resources        [AlterConfigsResource]
  resource_type  int8                    key
  resource_name  string                  key
  configs        [AlterableConfig]
    name         string                  key
    value        string                  nullable=0+
validate_only    bool
""",
)

RESPONSE = message(
    "AlterConfigsResponse",
    api_key=33,
    kind="response",
    versions="0-2",
    flexible="2+",
    fields="""
throttle_time_ms  int32
responses         [AlterConfigsResourceResponse]
  error_code      int16
  error_message   string                          nullable=0+
  resource_type   int8
  resource_name   string
""",
)
