"""DeleteShareGroupOffsets (key 92): forget a share group's offsets for whole topics."""

from protocol.schema import message

REQUEST = message(
    "DeleteShareGroupOffsetsRequest",
    api_key=92,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("broker",),
    fields="""
group_id        string                                 entity=groupId
topics          [DeleteShareGroupOffsetsRequestTopic]
  topic_name    string                                 entity=topicName
""",
)

RESPONSE = message(
    "DeleteShareGroupOffsetsResponse",
    api_key=92,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms  int32
error_code        int16
error_message     string                                  nullable=0+ default=null
responses         [DeleteShareGroupOffsetsResponseTopic]
  topic_name      string                                  entity=topicName
  topic_id        uuid
  error_code      int16
  error_message   string                                  nullable=0+ default=null
""",
)
