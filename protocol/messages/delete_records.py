"""DeleteRecords (key 21): advance partitions' log start offsets."""

from protocol.schema import message

REQUEST = message(
    "DeleteRecordsRequest",
    api_key=21,
    kind="request",
    versions="0-2",
    flexible="2+",
    listeners=("broker",),
    fields="""
topics               [DeleteRecordsTopic]
  name               string                    entity=topicName
  partitions         [DeleteRecordsPartition]
    partition_index  int32
    offset           int64
timeout_ms           int32
""",
)

RESPONSE = message(
    "DeleteRecordsResponse",
    api_key=21,
    kind="response",
    versions="0-2",
    flexible="2+",
    fields="""
throttle_time_ms     int32
topics               [DeleteRecordsTopicResult]
  name               string                          key entity=topicName
  partitions         [DeleteRecordsPartitionResult]
    partition_index  int32                           key
    low_watermark    int64
    error_code       int16
""",
)
