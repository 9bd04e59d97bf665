"""ReadShareGroupState (key 84): read share-group state (between brokers)."""

from protocol.schema import message

REQUEST = message(
    "ReadShareGroupStateRequest",
    api_key=84,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker",),
    fields="""
group_id          string
topics            [ReadStateData]
  topic_id        uuid
  partitions      [PartitionData]
    partition     int32
    leader_epoch  int32
""",
)

RESPONSE = message(
    "ReadShareGroupStateResponse",
    api_key=84,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
results               [ReadStateResult]
  topic_id            uuid
  partitions          [PartitionResult]
    partition         int32
    error_code        int16
    error_message     string             nullable=0+ default=null
    state_epoch       int32
    start_offset      int64
    state_batches     [StateBatch]
      first_offset    int64
      last_offset     int64
      delivery_state  int8
      delivery_count  int16
""",
)
