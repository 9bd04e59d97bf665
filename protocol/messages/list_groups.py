"""ListGroups (key 16): list the groups a broker coordinates."""

from protocol.schema import message

REQUEST = message(
    "ListGroupsRequest",
    api_key=16,
    kind="request",
    versions="0-5",
    flexible="3+",
    listeners=("broker",),
    fields="""
states_filter  [string]  4+
types_filter   [string]  5+
""",
)

RESPONSE = message(
    "ListGroupsResponse",
    api_key=16,
    kind="response",
    versions="0-5",
    flexible="3+",
    fields="""
throttle_time_ms  int32          1+ ignorable
error_code        int16
groups            [ListedGroup]
  group_id        string         entity=groupId
  protocol_type   string
  group_state     string         4+ ignorable
  group_type      string         5+ ignorable
""",
)
