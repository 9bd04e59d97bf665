"""ConsumerProtocolAssignment: the assignment a classic consumer group leader gives each member, inside SyncGroup."""

from protocol.schema import message

MESSAGE = message(
    "ConsumerProtocolAssignment",
    kind="data",
    versions="0-3",
    fields="""
assigned_partitions  [TopicPartition]
  topic              string            key entity=topicName
  partitions         [int32]
user_data            bytes             nullable=0+ default=null zerocopy
""",
)
