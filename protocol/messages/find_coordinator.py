"""FindCoordinator (key 10): locate the coordinator broker for a group or transactional id."""

from protocol.schema import message

REQUEST = message(
    "FindCoordinatorRequest",
    api_key=10,
    kind="request",
    versions="0-6",
    flexible="3+",
    listeners=("broker",),
    fields="""
key               string    0-3
key_type          int8      1+ default=0
coordinator_keys  [string]  4+
""",
)

RESPONSE = message(
    "FindCoordinatorResponse",
    api_key=10,
    kind="response",
    versions="0-6",
    flexible="3+",
    fields="""
throttle_time_ms  int32          1+ ignorable
error_code        int16          0-3
error_message     string         1-3 nullable=1-3 ignorable
node_id           int32          0-3 entity=brokerId
host              string         0-3
port              int32          0-3
coordinators      [Coordinator]  4+
  key             string         4+
  node_id         int32          4+ entity=brokerId
  host            string         4+
  port            int32          4+
  error_code      int16          4+
  error_message   string         4+ nullable=4+ ignorable
""",
)
