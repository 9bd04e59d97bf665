"""VotersRecord: the KRaft voter set control record."""

from protocol.schema import message

MESSAGE = message(
    "VotersRecord",
    kind="data",
    versions="0",
    flexible="0+",
    fields="""
version                    int16
voters                     [Voter]
  voter_id                 int32                entity=brokerId
  voter_directory_id       uuid
  endpoints                [Endpoint]
    name                   string               key
    host                   string
    port                   uint16
  kraft_version_feature    KRaftVersionFeature
    min_supported_version  int16
    max_supported_version  int16
""",
)
