"""BrokerRegistration (key 62): register a broker with the controller."""

from protocol.schema import message

REQUEST = message(
    "BrokerRegistrationRequest",
    api_key=62,
    kind="request",
    versions="0-4",
    flexible="0+",
    listeners=("controller",),
    fields="""
broker_id                int32       entity=brokerId
cluster_id               string
incarnation_id           uuid
listeners                [Listener]
  name                   string      key
  host                   string
  port                   uint16
  security_protocol      int16
features                 [Feature]
  name                   string      key
  min_supported_version  int16
  max_supported_version  int16
rack                     string      nullable=0+
is_migrating_zk_broker   bool        1+ default=false
log_dirs                 [uuid]      2+ ignorable
previous_broker_epoch    int64       3+ default=-1 ignorable
""",
)

RESPONSE = message(
    "BrokerRegistrationResponse",
    api_key=62,
    kind="response",
    versions="0-4",
    flexible="0+",
    fields="""
throttle_time_ms  int32
error_code        int16
broker_epoch      int64  default=-1
""",
)
