"""AddOffsetsToTxn (key 25): add a consumer group's offsets to an ongoing transaction."""

from protocol.schema import message

REQUEST = message(
    "AddOffsetsToTxnRequest",
    api_key=25,
    kind="request",
    versions="0-4",
    flexible="3+",
    listeners=("broker",),
    fields="""
transactional_id  string  entity=transactionalId
producer_id       int64   entity=producerId
producer_epoch    int16
group_id          string  entity=groupId
""",
)

RESPONSE = message(
    "AddOffsetsToTxnResponse",
    api_key=25,
    kind="response",
    versions="0-4",
    flexible="3+",
    fields="""
throttle_time_ms  int32
error_code        int16
""",
)
