"""The partition log on disk: segments, sparse offset and time indexes, recovery, retention
and compaction."""
