"""EndTxn (key 26): commit or abort a transaction."""

from protocol.schema import message

REQUEST = message(
    "EndTxnRequest",
    api_key=26,
    kind="request",
    versions="0-5",
    flexible="3+",
    listeners=("broker",),
    fields="""
transactional_id  string  entity=transactionalId
producer_id       int64   entity=producerId
producer_epoch    int16
committed         bool
""",
)

RESPONSE = message(
    "EndTxnResponse",
    api_key=26,
    kind="response",
    versions="0-5",
    flexible="3+",
    fields="""
throttle_time_ms  int32
error_code        int16
producer_id       int64  5+ default=-1 ignorable entity=producerId
producer_epoch    int16  5+ default=-1 ignorable
""",
)
