"""SnapshotFooterRecord: the control record that ends a KRaft snapshot."""

from protocol.schema import message

MESSAGE = message(
    "SnapshotFooterRecord",
    kind="data",
    versions="0",
    flexible="0+",
    fields="""
version  int16
""",
)
