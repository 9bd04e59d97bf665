"""ShareAcknowledge (key 79): acknowledge records delivered to a share group."""

from protocol.schema import message

REQUEST = message(
    "ShareAcknowledgeRequest",
    api_key=79,
    kind="request",
    versions="0-2",
    flexible="0+",
    listeners=("broker",),
    fields="""
group_id                     string                  nullable=0+ default=null entity=groupId
member_id                    string                  nullable=0+
share_session_epoch          int32
is_renew_ack                 bool                    2+
topics                       [AcknowledgeTopic]
  topic_id                   uuid
  partitions                 [AcknowledgePartition]
    partition_index          int32
    acknowledgement_batches  [AcknowledgementBatch]
      first_offset           int64
      last_offset            int64
      acknowledge_types      [int8]
""",
)

RESPONSE = message(
    "ShareAcknowledgeResponse",
    api_key=79,
    kind="response",
    versions="0-2",
    flexible="0+",
    fields="""
throttle_time_ms     int32                            ignorable
error_code           int16                            ignorable
error_message        string                           nullable=0+ default=null
acquisition_lock_timeout_ms  int32                    2+
responses            [ShareAcknowledgeTopicResponse]
  topic_id           uuid                             ignorable
  partitions         [PartitionData]
    partition_index  int32
    error_code       int16
    error_message    string                           nullable=0+ default=null
    current_leader   LeaderIdAndEpoch
      leader_id      int32
      leader_epoch   int32
node_endpoints       [NodeEndpoint]
  node_id            int32                            key entity=brokerId
  host               string
  port               int32
  rack               string                           nullable=0+ default=null
""",
)
