"""SaslHandshake (key 17): choose a SASL mechanism."""

from protocol.schema import message

REQUEST = message(
    "SaslHandshakeRequest",
    api_key=17,
    kind="request",
    versions="0-1",
    listeners=("broker", "controller"),
    fields="""
mechanism  string
""",
)

RESPONSE = message(
    "SaslHandshakeResponse",
    api_key=17,
    kind="response",
    versions="0-1",
    fields="""
error_code  int16
mechanisms  [string]
""",
)
