"""WriteShareGroupState (key 85): write share-group state (between brokers)."""

from protocol.schema import message

REQUEST = message(
    "WriteShareGroupStateRequest",
    api_key=85,
    kind="request",
    versions="0-1",
    flexible="0+",
    listeners=("broker",),
    fields="""
group_id              string
topics                [WriteStateData]
  topic_id            uuid
  partitions          [PartitionData]
    partition         int32
    state_epoch       int32
    leader_epoch      int32
    start_offset      int64
    delivery_complete_count  int32  1+ default=-1 ignorable
    state_batches     [StateBatch]
      first_offset    int64
      last_offset     int64
      delivery_state  int8
      delivery_count  int16
""",
)

RESPONSE = message(
    "WriteShareGroupStateResponse",
    api_key=85,
    kind="response",
    versions="0-1",
    flexible="0+",
    fields="""
results            [WriteStateResult]
  topic_id         uuid
  partitions       [PartitionResult]
    partition      int32
    error_code     int16
    error_message  string              nullable=0+ default=null
""",
)
