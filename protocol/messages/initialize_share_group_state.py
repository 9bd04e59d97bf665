"""InitializeShareGroupState (key 83): initialize share-group state (between brokers)."""

from protocol.schema import message

REQUEST = message(
    "InitializeShareGroupStateRequest",
    api_key=83,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker",),
    fields="""
group_id          string
topics            [InitializeStateData]
  topic_id        uuid
  partitions      [PartitionData]
    partition     int32
    state_epoch   int32
    start_offset  int64
""",
)

RESPONSE = message(
    "InitializeShareGroupStateResponse",
    api_key=83,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
results            [InitializeStateResult]
  topic_id         uuid
  partitions       [PartitionResult]
    partition      int32
    error_code     int16
    error_message  string                   nullable=0+ default=null
""",
)
