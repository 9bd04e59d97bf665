"""ApiVersions (key 18): advertise the API versions a broker supports."""

from protocol.schema import message

REQUEST = message(
    "ApiVersionsRequest",
    api_key=18,
    kind="request",
    versions="0-4",
    flexible="3+",
    listeners=("broker", "controller"),
    fields="""
client_software_name     string  3+ ignorable
client_software_version  string  3+ ignorable
""",
)

RESPONSE = message(
    "ApiVersionsResponse",
    api_key=18,
    kind="response",
    versions="0-4",
    flexible="3+",
    fields="""
error_code                int16
api_keys                  [ApiVersion]
  api_key                 int16                  key
  min_version             int16
  max_version             int16
throttle_time_ms          int32                  1+ ignorable
supported_features        [SupportedFeatureKey]  3+ tag=0 ignorable
  name                    string                 3+ key
  min_version             int16                  3+
  max_version             int16                  3+
finalized_features_epoch  int64                  3+ default=-1 tag=1 ignorable
finalized_features        [FinalizedFeatureKey]  3+ tag=2 ignorable
  name                    string                 3+ key
  max_version_level       int16                  3+
  min_version_level       int16                  3+
zk_migration_ready        bool                   3+ default=false tag=3 ignorable
""",
)
