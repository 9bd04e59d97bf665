"""IncrementalAlterConfigs (key 44): change configurations key by key."""

from protocol.schema import message

REQUEST = message(
    "IncrementalAlterConfigsRequest",
    api_key=44,
    kind="request",
    versions="0-1",
    flexible="1+",
    listeners=("broker", "controller"),
    fields="""
resources             [AlterConfigsResource]
  resource_type       int8                    key
  resource_name       string                  key
  configs             [AlterableConfig]
    name              string                  key
    config_operation  int8                    key
    value             string                  nullable=0+
validate_only         bool
""",
)

RESPONSE = message(
    "IncrementalAlterConfigsResponse",
    api_key=44,
    kind="response",
    versions="0-1",
    flexible="1+",
    fields="""
throttle_time_ms  int32
responses         [AlterConfigsResourceResponse]
  error_code      int16
  error_message   string                          nullable=0+
  resource_type   int8
  resource_name   string
""",
)
