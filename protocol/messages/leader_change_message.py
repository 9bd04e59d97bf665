"""LeaderChangeMessage: the control record a new KRaft leader writes."""

from protocol.schema import message

MESSAGE = message(
    "LeaderChangeMessage",
    kind="data",
    versions="0-1",
    flexible="0+",
    fields="""
version          int16
leader_id        int32    entity=brokerId
voters           [Voter]
granting_voters  [Voter]
""",
    structs="""
Voter
  voter_id            int32
  voter_directory_id  uuid   1+
""",
)
