"""UnregisterBroker (key 64): remove a broker's registration."""

from protocol.schema import message

REQUEST = message(
    "UnregisterBrokerRequest",
    api_key=64,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker", "controller"),
    fields="""
broker_id  int32  entity=brokerId
""",
)

RESPONSE = message(
    "UnregisterBrokerResponse",
    api_key=64,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms  int32
error_code        int16
error_message     string  nullable=0+
""",
)
