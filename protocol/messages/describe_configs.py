"""DescribeConfigs (key 32): describe topic and broker configurations."""

from protocol.schema import message

REQUEST = message(
    "DescribeConfigsRequest",
    api_key=32,
    kind="request",
    versions="0-4",
    flexible="4+",
    listeners=("broker", "controller"),
    fields="""
resources              [DescribeConfigsResource]
  resource_type        int8
  resource_name        string
  configuration_keys   [string]                   nullable=0+
include_synonyms       bool                       1+ default=false
include_documentation  bool                       3+ default=false
""",
)

RESPONSE = message(
    "DescribeConfigsResponse",
    api_key=32,
    kind="response",
    versions="0-4",
    flexible="4+",
    fields="""
throttle_time_ms   int32
results            [DescribeConfigsResult]
  error_code       int16
  error_message    string                           nullable=0+
  resource_type    int8
  resource_name    string
  configs          [DescribeConfigsResourceResult]
    name           string
    value          string                           nullable=0+
    read_only      bool
    is_default     bool                             0
    config_source  int8                             1+ default=-1 ignorable
    is_sensitive   bool
    synonyms       [DescribeConfigsSynonym]         1+ ignorable
      name         string                           1+
      value        string                           1+ nullable=0+
      source       int8                             1+
    config_type    int8                             3+ default=0 ignorable
    documentation  string                           3+ nullable=0+ ignorable
""",
)
