"""KRaftVersionRecord: the KRaft version control record of the metadata log."""

from protocol.schema import message

MESSAGE = message(
    "KRaftVersionRecord",
    kind="data",
    versions="0",
    flexible="0+",
    fields="""
version        int16
kraft_version  int16
""",
)
