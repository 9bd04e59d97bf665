"""DescribeCluster (key 60): describe the cluster: brokers, controller and cluster id."""

from protocol.schema import message

REQUEST = message(
    "DescribeClusterRequest",
    api_key=60,
    kind="request",
    versions="0-2",
    flexible="0+",
    listeners=("broker", "controller"),
    fields="""
include_cluster_authorized_operations  bool
endpoint_type                          int8  1+ default=1
include_fenced_brokers                 bool  2+
""",
)

RESPONSE = message(
    "DescribeClusterResponse",
    api_key=60,
    kind="response",
    versions="0-2",
    flexible="0+",
    fields="""
throttle_time_ms               int32
error_code                     int16
error_message                  string                   nullable=0+ default=null
endpoint_type                  int8                     1+ default=1
cluster_id                     string
controller_id                  int32                    default=-1 entity=brokerId
brokers                        [DescribeClusterBroker]
  broker_id                    int32                    key entity=brokerId
  host                         string
  port                         int32
  rack                         string                   nullable=0+ default=null
  is_fenced                    bool                     2+
cluster_authorized_operations  int32                    default=-2147483648
""",
)
