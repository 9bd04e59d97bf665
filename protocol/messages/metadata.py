"""Metadata (key 3): describe brokers, topics and partitions; may create topics on demand."""

from protocol.schema import message

REQUEST = message(
    "MetadataRequest",
    api_key=3,
    kind="request",
    versions="0-13",
    flexible="9+",
    listeners=("broker",),
    fields="""
topics                                 [MetadataRequestTopic]  nullable=1+
  topic_id                             uuid                    10+ ignorable
  name                                 string                  nullable=10+ entity=topicName
allow_auto_topic_creation              bool                    4+ default=true
include_cluster_authorized_operations  bool                    8-10
include_topic_authorized_operations    bool                    8+
""",
)

RESPONSE = message(
    "MetadataResponse",
    api_key=3,
    kind="response",
    versions="0-13",
    flexible="9+",
    fields="""
throttle_time_ms               int32                        3+ ignorable
brokers                        [MetadataResponseBroker]
  node_id                      int32                        key entity=brokerId
  host                         string
  port                         int32
  rack                         string                       1+ nullable=1+ default=null ignorable
cluster_id                     string                       2+ nullable=2+ default=null ignorable
controller_id                  int32                        1+ default=-1 ignorable entity=brokerId
topics                         [MetadataResponseTopic]
  error_code                   int16
  name                         string                       nullable=12+ key entity=topicName
  topic_id                     uuid                         10+ ignorable
  is_internal                  bool                         1+ default=false ignorable
  partitions                   [MetadataResponsePartition]
    error_code                 int16
    partition_index            int32
    leader_id                  int32                        entity=brokerId
    leader_epoch               int32                        7+ default=-1 ignorable
    replica_nodes              [int32]                      entity=brokerId
    isr_nodes                  [int32]                      entity=brokerId
    offline_replicas           [int32]                      5+ ignorable entity=brokerId
  topic_authorized_operations  int32                        8+ default=-2147483648
cluster_authorized_operations  int32                        8-10 default=-2147483648
error_code                     int16                        13+ ignorable
""",
)
