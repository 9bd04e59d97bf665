"""UpdateRaftVoter (key 82): update a KRaft voter's endpoints."""

from protocol.schema import message

REQUEST = message(
    "UpdateRaftVoterRequest",
    api_key=82,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("controller",),
    fields="""
cluster_id               string               nullable=0+
current_leader_epoch     int32
voter_id                 int32
voter_directory_id       uuid
listeners                [Listener]
  name                   string               key
  host                   string
  port                   uint16
kraft_version_feature    KRaftVersionFeature
  min_supported_version  int16
  max_supported_version  int16
""",
)

RESPONSE = message(
    "UpdateRaftVoterResponse",
    api_key=82,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
throttle_time_ms  int32
error_code        int16
current_leader    CurrentLeader  tag=0
  leader_id       int32          default=-1 entity=brokerId
  leader_epoch    int32          default=-1
  host            string
  port            int32
""",
)
