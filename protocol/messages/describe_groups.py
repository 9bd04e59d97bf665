"""DescribeGroups (key 15): describe classic consumer groups and their members."""

from protocol.schema import message

REQUEST = message(
    "DescribeGroupsRequest",
    api_key=15,
    kind="request",
    versions="0-6",
    flexible="5+",
    listeners=("broker",),
    fields="""
groups                         [string]  entity=groupId
include_authorized_operations  bool      3+
""",
)

RESPONSE = message(
    "DescribeGroupsResponse",
    api_key=15,
    kind="response",
    versions="0-6",
    flexible="5+",
    fields="""
throttle_time_ms         int32                   1+ ignorable
groups                   [DescribedGroup]
  error_code             int16
  error_message          string                  6+ nullable=6+ default=null
  group_id               string                  entity=groupId
  group_state            string
  protocol_type          string
  protocol_data          string
  members                [DescribedGroupMember]
    member_id            string
    group_instance_id    string                  4+ nullable=4+ default=null ignorable
    client_id            string
    client_host          string
    member_metadata      bytes
    member_assignment    bytes
  authorized_operations  int32                   3+ default=-2147483648
""",
)
