"""DeleteTopics (key 20): delete topics by name or id."""

from protocol.schema import message

REQUEST = message(
    "DeleteTopicsRequest",
    api_key=20,
    kind="request",
    versions="0-6",
    flexible="4+",
    listeners=("broker", "controller"),
    fields="""
topics       [DeleteTopicState]  6+
  name       string              6+ nullable=6+ default=null entity=topicName
  topic_id   uuid                6+
topic_names  [string]            0-5 ignorable entity=topicName
timeout_ms   int32
""",
)

RESPONSE = message(
    "DeleteTopicsResponse",
    api_key=20,
    kind="response",
    versions="0-6",
    flexible="4+",
    fields="""
throttle_time_ms  int32                   1+ ignorable
responses         [DeletableTopicResult]
  name            string                  nullable=6+ key entity=topicName
  topic_id        uuid                    6+ ignorable
  error_code      int16
  error_message   string                  5+ nullable=5+ default=null ignorable
""",
)
