"""UpdateFeatures (key 57): change finalized feature levels."""

from protocol.schema import message

REQUEST = message(
    "UpdateFeaturesRequest",
    api_key=57,
    kind="request",
    versions="0-2",
    flexible="0+",
    listeners=("broker", "controller"),
    fields="""
timeout_ms           int32               default=60000
feature_updates      [FeatureUpdateKey]
  feature            string              key
  max_version_level  int16
  allow_downgrade    bool                0
  upgrade_type       int8                1+ default=1
validate_only        bool                1+ default=false
""",
)

RESPONSE = message(
    "UpdateFeaturesResponse",
    api_key=57,
    kind="response",
    versions="0-2",
    flexible="0+",
    fields="""
throttle_time_ms  int32
error_code        int16
error_message     string                    nullable=0+
results           [UpdatableFeatureResult]  0-1 ignorable
  feature         string                    key
  error_code      int16
  error_message   string                    nullable=0+
""",
)
