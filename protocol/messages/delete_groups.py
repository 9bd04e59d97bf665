"""DeleteGroups (key 42): delete consumer groups."""

from protocol.schema import message

REQUEST = message(
    "DeleteGroupsRequest",
    api_key=42,
    kind="request",
    versions="0-2",
    flexible="2+",
    listeners=("broker",),
    fields="""
groups_names  [string]  entity=groupId
""",
)

RESPONSE = message(
    "DeleteGroupsResponse",
    api_key=42,
    kind="response",
    versions="0-2",
    flexible="2+",
    fields="""
throttle_time_ms  int32
results           [DeletableGroupResult]
  group_id        string                  key entity=groupId
  error_code      int16
""",
)
