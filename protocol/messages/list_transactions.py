"""ListTransactions (key 66): list transactions, filtered by state and producer."""

from protocol.schema import message

REQUEST = message(
    "ListTransactionsRequest",
    api_key=66,
    kind="request",
    versions="0-2",
    flexible="0+",
    listeners=("broker",),
    fields="""
state_filters             [string]
producer_id_filters       [int64]   entity=producerId
duration_filter           int64     1+ default=-1
transactional_id_pattern  string    2+ nullable=2+ default=null
""",
)

RESPONSE = message(
    "ListTransactionsResponse",
    api_key=66,
    kind="response",
    versions="0-2",
    flexible="0+",
    fields="""
throttle_time_ms       int32
error_code             int16
unknown_state_filters  [string]
transaction_states     [TransactionState]
  transactional_id     string              entity=transactionalId
  producer_id          int64               entity=producerId
  transaction_state    string
""",
)
