"""DescribeClientQuotas (key 48): describe client quotas."""

from protocol.schema import message

REQUEST = message(
    "DescribeClientQuotasRequest",
    api_key=48,
    kind="request",
    versions="0-1",
    flexible="1+",
    listeners=("broker",),
    fields="""
components     [ComponentData]
  entity_type  string
  match_type   int8
  match        string           nullable=0+
strict         bool
""",
)

RESPONSE = message(
    "DescribeClientQuotasResponse",
    api_key=48,
    kind="response",
    versions="0-1",
    flexible="1+",
    fields="""
throttle_time_ms  int32
error_code        int16
error_message     string        nullable=0+
entries           [EntryData]   nullable=0+
  entity          [EntityData]
    entity_type   string
    entity_name   string        nullable=0+
  values          [ValueData]
    key           string
    value         float64
""",
)
