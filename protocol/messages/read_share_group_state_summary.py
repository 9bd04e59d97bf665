"""ReadShareGroupStateSummary (key 87): read a summary of share-group state (between brokers)."""

from protocol.schema import message

REQUEST = message(
    "ReadShareGroupStateSummaryRequest",
    api_key=87,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker",),
    fields="""
group_id          string
topics            [ReadStateSummaryData]
  topic_id        uuid
  partitions      [PartitionData]
    partition     int32
    leader_epoch  int32
""",
)

RESPONSE = message(
    "ReadShareGroupStateSummaryResponse",
    api_key=87,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
results            [ReadStateSummaryResult]
  topic_id         uuid
  partitions       [PartitionResult]
    partition      int32
    error_code     int16
    error_message  string                    nullable=0+ default=null
    state_epoch    int32
    start_offset   int64
""",
)
