"""DeleteShareGroupState (key 86): delete share-group state (between brokers)."""

from protocol.schema import message

REQUEST = message(
    "DeleteShareGroupStateRequest",
    api_key=86,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker",),
    fields="""
group_id       string
topics         [DeleteStateData]
  topic_id     uuid
  partitions   [PartitionData]
    partition  int32
""",
)

RESPONSE = message(
    "DeleteShareGroupStateResponse",
    api_key=86,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
results            [DeleteStateResult]
  topic_id         uuid
  partitions       [PartitionResult]
    partition      int32
    error_code     int16
    error_message  string               nullable=0+ default=null
""",
)
