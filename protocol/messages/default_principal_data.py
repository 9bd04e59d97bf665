"""DefaultPrincipalData: a principal serialized for forwarded requests."""

from protocol.schema import message

MESSAGE = message(
    "DefaultPrincipalData",
    kind="data",
    versions="0",
    flexible="0+",
    fields="""
type                 string
name                 string
token_authenticated  bool
""",
)
