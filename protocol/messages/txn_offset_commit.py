"""TxnOffsetCommit (key 28): commit offsets inside a transaction."""

from protocol.schema import message

REQUEST = message(
    "TxnOffsetCommitRequest",
    api_key=28,
    kind="request",
    versions="0-5",
    flexible="3+",
    listeners=("broker",),
    fields="""
transactional_id            string                             entity=transactionalId
group_id                    string                             entity=groupId
producer_id                 int64                              entity=producerId
producer_epoch              int16
generation_id               int32                              3+ default=-1
member_id                   string                             3+ default=""
group_instance_id           string                             3+ nullable=3+ default=null
topics                      [TxnOffsetCommitRequestTopic]
  name                      string                             entity=topicName
  partitions                [TxnOffsetCommitRequestPartition]
    partition_index         int32
    committed_offset        int64
    committed_leader_epoch  int32                              2+ default=-1 ignorable
    committed_metadata      string                             nullable=0+
""",
)

RESPONSE = message(
    "TxnOffsetCommitResponse",
    api_key=28,
    kind="response",
    versions="0-5",
    flexible="3+",
    fields="""
throttle_time_ms     int32
topics               [TxnOffsetCommitResponseTopic]
  name               string                              entity=topicName
  partitions         [TxnOffsetCommitResponsePartition]
    partition_index  int32
    error_code       int16
""",
)
