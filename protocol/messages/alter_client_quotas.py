"""AlterClientQuotas (key 49): change client quotas."""

from protocol.schema import message

REQUEST = message(
    "AlterClientQuotasRequest",
    api_key=49,
    kind="request",
    versions="0-1",
    flexible="1+",
    listeners=("broker", "controller"),
    fields="""
entries          [EntryData]
  entity         [EntityData]
    entity_type  string
    entity_name  string        nullable=0+
  ops            [OpData]
    key          string
    value        float64
    remove       bool
validate_only    bool
""",
)

RESPONSE = message(
    "AlterClientQuotasResponse",
    api_key=49,
    kind="response",
    versions="0-1",
    flexible="1+",
    fields="""
throttle_time_ms  int32
entries           [EntryData]
  error_code      int16
  error_message   string        nullable=0+
  entity          [EntityData]
    entity_type   string
    entity_name   string        nullable=0+
""",
)
