"""AllocateProducerIds (key 67): allocate a block of producer ids (broker to controller)."""

from protocol.schema import message

REQUEST = message(
    "AllocateProducerIdsRequest",
    api_key=67,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("controller",),
    fields="""
broker_id     int32  entity=brokerId
broker_epoch  int64  default=-1
""",
)

RESPONSE = message(
    "AllocateProducerIdsResponse",
    api_key=67,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms   int32
error_code         int16
producer_id_start  int64  entity=producerId
producer_id_len    int32
""",
)
