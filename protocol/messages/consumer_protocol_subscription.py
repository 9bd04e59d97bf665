"""ConsumerProtocolSubscription: a classic consumer's subscription, inside JoinGroup protocol metadata."""

from protocol.schema import message

MESSAGE = message(
    "ConsumerProtocolSubscription",
    kind="data",
    versions="0-3",
    fields="""
topics            [string]
user_data         bytes             nullable=0+ default=null zerocopy
owned_partitions  [TopicPartition]  1+ ignorable
  topic           string            1+ key entity=topicName
  partitions      [int32]           1+
generation_id     int32             2+ default=-1 ignorable
rack_id           string            3+ nullable=3+ default=null ignorable
""",
)
