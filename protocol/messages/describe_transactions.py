"""DescribeTransactions (key 65): describe transactions by transactional id."""

from protocol.schema import message

REQUEST = message(
    "DescribeTransactionsRequest",
    api_key=65,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker",),
    fields="""
transactional_ids  [string]  entity=transactionalId
""",
)

RESPONSE = message(
    "DescribeTransactionsResponse",
    api_key=65,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms             int32
transaction_states           [TransactionState]
  error_code                 int16
  transactional_id           string              entity=transactionalId
  transaction_state          string
  transaction_timeout_ms     int32
  transaction_start_time_ms  int64
  producer_id                int64               entity=producerId
  producer_epoch             int16
  topics                     [TopicData]
    topic                    string              key entity=topicName
    partitions               [int32]
""",
)
