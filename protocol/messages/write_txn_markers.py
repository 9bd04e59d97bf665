"""WriteTxnMarkers (key 27): write transaction markers to partitions (between brokers)."""

from protocol.schema import message

REQUEST = message(
    "WriteTxnMarkersRequest",
    api_key=27,
    kind="request",
    versions="0-2",
    flexible="1+",
    listeners=("broker",),
    fields="""
markers                [WritableTxnMarker]
  producer_id          int64                     entity=producerId
  producer_epoch       int16
  transaction_result   bool
  topics               [WritableTxnMarkerTopic]
    name               string                    entity=topicName
    partition_indexes  [int32]
  coordinator_epoch    int32
  transaction_version  int8                      2+ default=0 ignorable
""",
)

RESPONSE = message(
    "WriteTxnMarkersResponse",
    api_key=27,
    kind="response",
    versions="0-2",
    flexible="1+",
    fields="""
markers                [WritableTxnMarkerResult]
  producer_id          int64                               entity=producerId
  topics               [WritableTxnMarkerTopicResult]
    name               string                              entity=topicName
    partitions         [WritableTxnMarkerPartitionResult]
      partition_index  int32
      error_code       int16
""",
)
