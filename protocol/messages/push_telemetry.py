"""PushTelemetry (key 72): push client telemetry."""

from protocol.schema import message

REQUEST = message(
    "PushTelemetryRequest",
    api_key=72,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker",),
    fields="""
client_instance_id  uuid
subscription_id     int32
terminating         bool
compression_type    int8
metrics             bytes
""",
)

RESPONSE = message(
    "PushTelemetryResponse",
    api_key=72,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms  int32
error_code        int16
""",
)
