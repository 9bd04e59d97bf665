"""InitProducerId (key 22): allocate a producer id and epoch for idempotent or transactional producers."""

from protocol.schema import message

REQUEST = message(
    "InitProducerIdRequest",
    api_key=22,
    kind="request",
    versions="0-6",
    flexible="2+",
    listeners=("broker",),
    fields="""
transactional_id        string  nullable=0+ entity=transactionalId
transaction_timeout_ms  int32
producer_id             int64   3+ default=-1 entity=producerId
producer_epoch          int16   3+ default=-1
enable2_pc              bool    6+ default=false
keep_prepared_txn       bool    6+ default=false
""",
)

RESPONSE = message(
    "InitProducerIdResponse",
    api_key=22,
    kind="response",
    versions="0-6",
    flexible="2+",
    fields="""
throttle_time_ms            int32  ignorable
error_code                  int16
producer_id                 int64  default=-1 entity=producerId
producer_epoch              int16
ongoing_txn_producer_id     int64  6+ default=-1 entity=producerId
ongoing_txn_producer_epoch  int16  6+ default=-1
""",
)
