"""FetchSnapshot (key 59): fetch a KRaft snapshot."""

from protocol.schema import message

REQUEST = message(
    "FetchSnapshotRequest",
    api_key=59,
    kind="request",
    versions="0-1",
    flexible="0+",
    listeners=("controller",),
    fields="""
cluster_id                string               nullable=0+ default=null tag=0
replica_id                int32                default=-1 entity=brokerId
max_bytes                 int32                default=0x7fffffff
topics                    [TopicSnapshot]
  name                    string               entity=topicName
  partitions              [PartitionSnapshot]
    partition             int32
    current_leader_epoch  int32
    snapshot_id           SnapshotId
      end_offset          int64
      epoch               int32
    position              int64
    replica_directory_id  uuid                 1+ tag=0 ignorable
""",
)

RESPONSE = message(
    "FetchSnapshotResponse",
    api_key=59,
    kind="response",
    versions="0-1",
    flexible="0+",
    fields="""
throttle_time_ms       int32                ignorable
error_code             int16
topics                 [TopicSnapshot]
  name                 string               entity=topicName
  partitions           [PartitionSnapshot]
    index              int32
    error_code         int16
    snapshot_id        SnapshotId
      end_offset       int64
      epoch            int32
    current_leader     LeaderIdAndEpoch     tag=0
      leader_id        int32                entity=brokerId
      leader_epoch     int32
    size               int64
    position           int64
    unaligned_records  records
node_endpoints         [NodeEndpoint]       1+ tag=0
  node_id              int32                1+ key entity=brokerId
  host                 string               1+
  port                 uint16               1+
""",
)
