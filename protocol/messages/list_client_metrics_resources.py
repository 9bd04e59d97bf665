"""ListClientMetricsResources (key 74): list client metrics resources."""

from protocol.schema import message

REQUEST = message(
    "ListClientMetricsResourcesRequest",
    api_key=74,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker",),
    fields="""
""",
)

RESPONSE = message(
    "ListClientMetricsResourcesResponse",
    api_key=74,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms          int32
error_code                int16
client_metrics_resources  [ClientMetricsResource]
  name                    string
""",
)
