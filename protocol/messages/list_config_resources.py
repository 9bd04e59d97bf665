"""ListConfigResources (key 74): list configuration resources such as client metrics."""

from protocol.schema import message

REQUEST = message(
    "ListConfigResourcesRequest",
    api_key=74,
    kind="request",
    versions="0-1",
    flexible="0+",
    listeners=("broker",),
    fields="""
resource_types  [int8]  1+
""",
)

RESPONSE = message(
    "ListConfigResourcesResponse",
    api_key=74,
    kind="response",
    versions="0-1",
    flexible="0+",
    fields="""
throttle_time_ms  int32
error_code        int16
config_resources  [ConfigResource]
  resource_name   string
  resource_type   int8              1+ default=16 ignorable
""",
)
