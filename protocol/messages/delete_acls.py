"""DeleteAcls (key 31): delete access control lists."""

from protocol.schema import message

REQUEST = message(
    "DeleteAclsRequest",
    api_key=31,
    kind="request",
    versions="0-3",
    flexible="2+",
    listeners=("broker", "controller"),
    fields="""
filters                 [DeleteAclsFilter]
  resource_type_filter  int8
  resource_name_filter  string              nullable=0+
  pattern_type_filter   int8                1+ default=3
  principal_filter      string              nullable=0+
  host_filter           string              nullable=0+
  operation             int8
  permission_type       int8
""",
)

RESPONSE = message(
    "DeleteAclsResponse",
    api_key=31,
    kind="response",
    versions="0-3",
    flexible="2+",
    fields="""
throttle_time_ms     int32
filter_results       [DeleteAclsFilterResult]
  error_code         int16
  error_message      string                    nullable=0+
  matching_acls      [DeleteAclsMatchingAcl]
    error_code       int16
    error_message    string                    nullable=0+
    resource_type    int8
    resource_name    string
    pattern_type     int8                      1+ default=3
    principal        string
    host             string
    operation        int8
    permission_type  int8
""",
)
