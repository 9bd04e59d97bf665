"""DescribeLogDirs (key 35): describe log directories and the replicas in them."""

from protocol.schema import message

REQUEST = message(
    "DescribeLogDirsRequest",
    api_key=35,
    kind="request",
    versions="0-5",
    flexible="2+",
    listeners=("broker",),
    fields="""
topics        [DescribableLogDirTopic]  nullable=0+
  topic       string                    key entity=topicName
  partitions  [int32]
""",
)

RESPONSE = message(
    "DescribeLogDirsResponse",
    api_key=35,
    kind="response",
    versions="0-5",
    flexible="2+",
    fields="""
throttle_time_ms       int32
error_code             int16                       3+ ignorable
results                [DescribeLogDirsResult]
  error_code           int16
  log_dir              string
  topics               [DescribeLogDirsTopic]
    name               string                      entity=topicName
    partitions         [DescribeLogDirsPartition]
      partition_index  int32
      partition_size   int64
      offset_lag       int64
      is_future_key    bool
  total_bytes          int64                       4+ default=-1 ignorable
  usable_bytes         int64                       4+ default=-1 ignorable
  is_cordoned          bool                        5+ default=false ignorable
""",
)
