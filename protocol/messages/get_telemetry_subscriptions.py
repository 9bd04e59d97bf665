"""GetTelemetrySubscriptions (key 71): ask for a client's telemetry subscription."""

from protocol.schema import message

REQUEST = message(
    "GetTelemetrySubscriptionsRequest",
    api_key=71,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker",),
    fields="""
client_instance_id  uuid
""",
)

RESPONSE = message(
    "GetTelemetrySubscriptionsResponse",
    api_key=71,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms            int32
error_code                  int16
client_instance_id          uuid
subscription_id             int32
accepted_compression_types  [int8]
push_interval_ms            int32
telemetry_max_bytes         int32
delta_temporality           bool
requested_metrics           [string]
""",
)
