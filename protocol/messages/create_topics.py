"""CreateTopics (key 19): create topics."""

from protocol.schema import message

REQUEST = message(
    "CreateTopicsRequest",
    api_key=19,
    kind="request",
    versions="0-7",
    flexible="5+",
    listeners=("broker", "controller"),
    fields="""
topics                [CreatableTopic]
  name                string                        key entity=topicName
  num_partitions      int32
  replication_factor  int16
  assignments         [CreatableReplicaAssignment]
    partition_index   int32                         key
    broker_ids        [int32]                       entity=brokerId
  configs             [CreatableTopicConfig]
    name              string                        key
    value             string                        nullable=0+
timeout_ms            int32                         default=60000
validate_only         bool                          1+ default=false
""",
)

RESPONSE = message(
    "CreateTopicsResponse",
    api_key=19,
    kind="response",
    versions="0-7",
    flexible="5+",
    fields="""
throttle_time_ms           int32                    2+ ignorable
topics                     [CreatableTopicResult]
  name                     string                   key entity=topicName
  topic_id                 uuid                     7+ ignorable
  error_code               int16
  error_message            string                   1+ nullable=0+ ignorable
  topic_config_error_code  int16                    5+ tag=0 ignorable
  num_partitions           int32                    5+ default=-1 ignorable
  replication_factor       int16                    5+ default=-1 ignorable
  configs                  [CreatableTopicConfigs]  5+ nullable=5+ ignorable
    name                   string                   5+
    value                  string                   5+ nullable=5+
    read_only              bool                     5+
    config_source          int8                     5+ default=-1 ignorable
    is_sensitive           bool                     5+
""",
)
