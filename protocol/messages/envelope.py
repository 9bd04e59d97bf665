"""Envelope (key 58): wrap a forwarded request with its principal (broker to controller)."""

from protocol.schema import message

REQUEST = message(
    "EnvelopeRequest",
    api_key=58,
    kind="request",
    versions="0",
    flexible="0+",
    listeners=("controller",),
    fields="""
request_data         bytes  zerocopy
request_principal    bytes  nullable=0+
client_host_address  bytes
""",
)

RESPONSE = message(
    "EnvelopeResponse",
    api_key=58,
    kind="response",
    versions="0",
    flexible="0+",
    fields="""
response_data  bytes  nullable=0+ default=null zerocopy
error_code     int16
""",
)
