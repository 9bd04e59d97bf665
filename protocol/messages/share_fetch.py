"""ShareFetch (key 78): fetch records for a share group."""

from protocol.schema import message

REQUEST = message(
    "ShareFetchRequest",
    api_key=78,
    kind="request",
    versions="0-2",
    flexible="0+",
    listeners=("broker",),
    fields="""
group_id                     string                  nullable=0+ default=null entity=groupId
member_id                    string                  nullable=0+
share_session_epoch          int32
max_wait_ms                  int32
min_bytes                    int32
max_bytes                    int32                   default=0x7fffffff
max_records                  int32                   1+
batch_size                   int32                   1+
share_acquire_mode           int8                    2+
is_renew_ack                 bool                    2+
topics                       [FetchTopic]
  topic_id                   uuid
  partitions                 [FetchPartition]
    partition_index          int32
    partition_max_bytes      int32                   0
    acknowledgement_batches  [AcknowledgementBatch]
      first_offset           int64
      last_offset            int64
      acknowledge_types      [int8]
forgotten_topics_data        [ForgottenTopic]
  topic_id                   uuid
  partitions                 [int32]
""",
)

RESPONSE = message(
    "ShareFetchResponse",
    api_key=78,
    kind="response",
    versions="0-2",
    flexible="0+",
    fields="""
throttle_time_ms               int32
error_code                     int16
error_message                  string                         nullable=0+ default=null
acquisition_lock_timeout_ms    int32                          1+
responses                      [ShareFetchableTopicResponse]
  topic_id                     uuid
  partitions                   [PartitionData]
    partition_index            int32
    error_code                 int16
    error_message              string                         nullable=0+ default=null
    acknowledge_error_code     int16
    acknowledge_error_message  string                         nullable=0+ default=null
    current_leader             LeaderIdAndEpoch
      leader_id                int32
      leader_epoch             int32
    records                    records                        nullable=0+
    acquired_records           [AcquiredRecords]
      first_offset             int64
      last_offset              int64
      delivery_count           int16
node_endpoints                 [NodeEndpoint]
  node_id                      int32                          key entity=brokerId
  host                         string
  port                         int32
  rack                         string                         nullable=0+ default=null
""",
)
