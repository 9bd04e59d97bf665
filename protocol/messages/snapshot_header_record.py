"""SnapshotHeaderRecord: the control record that starts a KRaft snapshot."""

from protocol.schema import message

MESSAGE = message(
    "SnapshotHeaderRecord",
    kind="data",
    versions="0",
    flexible="0+",
    fields="""
version                       int16
last_contained_log_timestamp  int64
""",
)
