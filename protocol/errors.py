"""Kafka's error codes, and the exceptions the codec raises for bad input."""

from __future__ import annotations

from enum import IntEnum


class KafkaProtocolError(Exception):
    """Base of every exception the protocol package raises."""


class DecodeError(KafkaProtocolError):
    """Bytes that do not decode: truncated, garbage, or sizes that do not fit the input."""


class EncodeError(KafkaProtocolError):
    """A message that cannot be encoded at the requested version."""


class UnsupportedVersionError(KafkaProtocolError):
    """An API key or version that has no schema."""


class CorruptRecordError(DecodeError):
    """A record batch that fails validation (magic, length, CRC, counts)."""


class ErrorCode(IntEnum):
    """Every error code Apache Kafka defines on the wire, named as Kafka names them.

    Codes -1 to 133 are those of Kafka 4.2 (and 4.3); 134 and 135 arrived in Kafka 4.4.
    Numbers never change meaning; a code a peer sends that is not listed here should be treated
    as UNKNOWN_SERVER_ERROR (see ``for_code``).
    """

    UNKNOWN_SERVER_ERROR = -1
    NONE = 0
    OFFSET_OUT_OF_RANGE = 1
    CORRUPT_MESSAGE = 2
    UNKNOWN_TOPIC_OR_PARTITION = 3
    INVALID_FETCH_SIZE = 4
    LEADER_NOT_AVAILABLE = 5
    NOT_LEADER_OR_FOLLOWER = 6
    REQUEST_TIMED_OUT = 7
    BROKER_NOT_AVAILABLE = 8
    REPLICA_NOT_AVAILABLE = 9
    MESSAGE_TOO_LARGE = 10
    STALE_CONTROLLER_EPOCH = 11
    OFFSET_METADATA_TOO_LARGE = 12
    NETWORK_EXCEPTION = 13
    COORDINATOR_LOAD_IN_PROGRESS = 14
    COORDINATOR_NOT_AVAILABLE = 15
    NOT_COORDINATOR = 16
    INVALID_TOPIC_EXCEPTION = 17
    RECORD_LIST_TOO_LARGE = 18
    NOT_ENOUGH_REPLICAS = 19
    NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20
    INVALID_REQUIRED_ACKS = 21
    ILLEGAL_GENERATION = 22
    INCONSISTENT_GROUP_PROTOCOL = 23
    INVALID_GROUP_ID = 24
    UNKNOWN_MEMBER_ID = 25
    INVALID_SESSION_TIMEOUT = 26
    REBALANCE_IN_PROGRESS = 27
    INVALID_COMMIT_OFFSET_SIZE = 28
    TOPIC_AUTHORIZATION_FAILED = 29
    GROUP_AUTHORIZATION_FAILED = 30
    CLUSTER_AUTHORIZATION_FAILED = 31
    INVALID_TIMESTAMP = 32
    UNSUPPORTED_SASL_MECHANISM = 33
    ILLEGAL_SASL_STATE = 34
    UNSUPPORTED_VERSION = 35
    TOPIC_ALREADY_EXISTS = 36
    INVALID_PARTITIONS = 37
    INVALID_REPLICATION_FACTOR = 38
    INVALID_REPLICA_ASSIGNMENT = 39
    INVALID_CONFIG = 40
    NOT_CONTROLLER = 41
    INVALID_REQUEST = 42
    UNSUPPORTED_FOR_MESSAGE_FORMAT = 43
    POLICY_VIOLATION = 44
    OUT_OF_ORDER_SEQUENCE_NUMBER = 45
    DUPLICATE_SEQUENCE_NUMBER = 46
    INVALID_PRODUCER_EPOCH = 47
    INVALID_TXN_STATE = 48
    INVALID_PRODUCER_ID_MAPPING = 49
    INVALID_TRANSACTION_TIMEOUT = 50
    CONCURRENT_TRANSACTIONS = 51
    TRANSACTION_COORDINATOR_FENCED = 52
    TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
    SECURITY_DISABLED = 54
    OPERATION_NOT_ATTEMPTED = 55
    KAFKA_STORAGE_ERROR = 56
    LOG_DIR_NOT_FOUND = 57
    SASL_AUTHENTICATION_FAILED = 58
    UNKNOWN_PRODUCER_ID = 59
    REASSIGNMENT_IN_PROGRESS = 60
    DELEGATION_TOKEN_AUTH_DISABLED = 61
    DELEGATION_TOKEN_NOT_FOUND = 62
    DELEGATION_TOKEN_OWNER_MISMATCH = 63
    DELEGATION_TOKEN_REQUEST_NOT_ALLOWED = 64
    DELEGATION_TOKEN_AUTHORIZATION_FAILED = 65
    DELEGATION_TOKEN_EXPIRED = 66
    INVALID_PRINCIPAL_TYPE = 67
    NON_EMPTY_GROUP = 68
    GROUP_ID_NOT_FOUND = 69
    FETCH_SESSION_ID_NOT_FOUND = 70
    INVALID_FETCH_SESSION_EPOCH = 71
    LISTENER_NOT_FOUND = 72
    TOPIC_DELETION_DISABLED = 73
    FENCED_LEADER_EPOCH = 74
    UNKNOWN_LEADER_EPOCH = 75
    UNSUPPORTED_COMPRESSION_TYPE = 76
    STALE_BROKER_EPOCH = 77
    OFFSET_NOT_AVAILABLE = 78
    MEMBER_ID_REQUIRED = 79
    PREFERRED_LEADER_NOT_AVAILABLE = 80
    GROUP_MAX_SIZE_REACHED = 81
    FENCED_INSTANCE_ID = 82
    ELIGIBLE_LEADERS_NOT_AVAILABLE = 83
    ELECTION_NOT_NEEDED = 84
    NO_REASSIGNMENT_IN_PROGRESS = 85
    GROUP_SUBSCRIBED_TO_TOPIC = 86
    INVALID_RECORD = 87
    UNSTABLE_OFFSET_COMMIT = 88
    THROTTLING_QUOTA_EXCEEDED = 89
    PRODUCER_FENCED = 90
    RESOURCE_NOT_FOUND = 91
    DUPLICATE_RESOURCE = 92
    UNACCEPTABLE_CREDENTIAL = 93
    INCONSISTENT_VOTER_SET = 94
    INVALID_UPDATE_VERSION = 95
    FEATURE_UPDATE_FAILED = 96
    PRINCIPAL_DESERIALIZATION_FAILURE = 97
    SNAPSHOT_NOT_FOUND = 98
    POSITION_OUT_OF_RANGE = 99
    UNKNOWN_TOPIC_ID = 100
    DUPLICATE_BROKER_REGISTRATION = 101
    BROKER_ID_NOT_REGISTERED = 102
    INCONSISTENT_TOPIC_ID = 103
    INCONSISTENT_CLUSTER_ID = 104
    TRANSACTIONAL_ID_NOT_FOUND = 105
    FETCH_SESSION_TOPIC_ID_ERROR = 106
    INELIGIBLE_REPLICA = 107
    NEW_LEADER_ELECTED = 108
    OFFSET_MOVED_TO_TIERED_STORAGE = 109
    FENCED_MEMBER_EPOCH = 110
    UNRELEASED_INSTANCE_ID = 111
    UNSUPPORTED_ASSIGNOR = 112
    STALE_MEMBER_EPOCH = 113
    MISMATCHED_ENDPOINT_TYPE = 114
    UNSUPPORTED_ENDPOINT_TYPE = 115
    UNKNOWN_CONTROLLER_ID = 116
    UNKNOWN_SUBSCRIPTION_ID = 117
    TELEMETRY_TOO_LARGE = 118
    INVALID_REGISTRATION = 119
    TRANSACTION_ABORTABLE = 120
    INVALID_RECORD_STATE = 121
    SHARE_SESSION_NOT_FOUND = 122
    INVALID_SHARE_SESSION_EPOCH = 123
    FENCED_STATE_EPOCH = 124
    INVALID_VOTER_KEY = 125
    DUPLICATE_VOTER = 126
    VOTER_NOT_FOUND = 127
    INVALID_REGULAR_EXPRESSION = 128
    REBOOTSTRAP_REQUIRED = 129
    STREAMS_INVALID_TOPOLOGY = 130
    STREAMS_INVALID_TOPOLOGY_EPOCH = 131
    STREAMS_TOPOLOGY_FENCED = 132
    SHARE_SESSION_LIMIT_REACHED = 133
    GROUP_DELETION_FAILED = 134
    STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED = 135

    @property
    def retriable(self) -> bool:
        """Whether Kafka's clients treat the error as transient (a RetriableException)."""
        return self in RETRIABLE

    @property
    def message(self) -> str:
        """A short default description, for error_message fields and logs."""
        return _MESSAGES[self]

    @classmethod
    def for_code(cls, code: int) -> ErrorCode:
        """The member for ``code``; codes this table does not know map to UNKNOWN_SERVER_ERROR."""
        try:
            return cls(code)
        except ValueError:
            return cls.UNKNOWN_SERVER_ERROR


# The codes whose Java exception class extends RetriableException in Kafka 4.2 (directly, or
# through InvalidMetadataException / RefreshRetriableException). Clients retry these.
RETRIABLE: frozenset[ErrorCode] = frozenset({
    ErrorCode.CORRUPT_MESSAGE,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ErrorCode.LEADER_NOT_AVAILABLE,
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
    ErrorCode.REQUEST_TIMED_OUT,
    ErrorCode.REPLICA_NOT_AVAILABLE,
    ErrorCode.NETWORK_EXCEPTION,
    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.NOT_COORDINATOR,
    ErrorCode.NOT_ENOUGH_REPLICAS,
    ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
    ErrorCode.NOT_CONTROLLER,
    ErrorCode.CONCURRENT_TRANSACTIONS,
    ErrorCode.KAFKA_STORAGE_ERROR,
    ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
    ErrorCode.INVALID_FETCH_SESSION_EPOCH,
    ErrorCode.LISTENER_NOT_FOUND,
    ErrorCode.FENCED_LEADER_EPOCH,
    ErrorCode.UNKNOWN_LEADER_EPOCH,
    ErrorCode.OFFSET_NOT_AVAILABLE,
    ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
    ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
    ErrorCode.ELECTION_NOT_NEEDED,
    ErrorCode.UNSTABLE_OFFSET_COMMIT,
    ErrorCode.THROTTLING_QUOTA_EXCEEDED,
    ErrorCode.UNKNOWN_TOPIC_ID,
    ErrorCode.INCONSISTENT_TOPIC_ID,
    ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
    ErrorCode.SHARE_SESSION_NOT_FOUND,
    ErrorCode.INVALID_SHARE_SESSION_EPOCH,
    ErrorCode.SHARE_SESSION_LIMIT_REACHED,
})

_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.UNKNOWN_SERVER_ERROR:
        "The server hit an unexpected error while handling the request.",
    ErrorCode.NONE: "No error.",
    ErrorCode.OFFSET_OUT_OF_RANGE: "The requested offset is outside the range the partition holds.",
    ErrorCode.CORRUPT_MESSAGE:
        "A record batch failed its CRC or size check, or is otherwise corrupt.",
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION: "This broker does not host the topic-partition.",
    ErrorCode.INVALID_FETCH_SIZE: "The requested fetch size is not valid.",
    ErrorCode.LEADER_NOT_AVAILABLE:
        "The partition has no leader right now, probably an election is under way.",
    ErrorCode.NOT_LEADER_OR_FOLLOWER:
        "This broker is not the leader (or not a replica) of the partition.",
    ErrorCode.REQUEST_TIMED_OUT: "The request timed out.",
    ErrorCode.BROKER_NOT_AVAILABLE: "The broker is not available.",
    ErrorCode.REPLICA_NOT_AVAILABLE:
        "The replica is not available for the requested topic-partition.",
    ErrorCode.MESSAGE_TOO_LARGE: "A message is larger than the broker accepts.",
    ErrorCode.STALE_CONTROLLER_EPOCH: "The request carries an old controller epoch.",
    ErrorCode.OFFSET_METADATA_TOO_LARGE: "The committed offset metadata is too large.",
    ErrorCode.NETWORK_EXCEPTION: "The connection closed before a response arrived.",
    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS: "The coordinator is still loading its state.",
    ErrorCode.COORDINATOR_NOT_AVAILABLE: "The coordinator is not available.",
    ErrorCode.NOT_COORDINATOR: "This broker is not the coordinator for the key.",
    ErrorCode.INVALID_TOPIC_EXCEPTION: "The topic name is not valid for this operation.",
    ErrorCode.RECORD_LIST_TOO_LARGE: "A record batch is larger than the topic's segment size.",
    ErrorCode.NOT_ENOUGH_REPLICAS: "Too few in-sync replicas to accept the write.",
    ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
        "The write was appended, but with fewer in-sync replicas than required.",
    ErrorCode.INVALID_REQUIRED_ACKS: "The acks value of the produce request is not valid.",
    ErrorCode.ILLEGAL_GENERATION: "The group generation id is not current.",
    ErrorCode.INCONSISTENT_GROUP_PROTOCOL:
        "The member's protocols do not match those of the group.",
    ErrorCode.INVALID_GROUP_ID: "The group id is not valid.",
    ErrorCode.UNKNOWN_MEMBER_ID: "The coordinator does not know this member.",
    ErrorCode.INVALID_SESSION_TIMEOUT:
        "The session timeout is outside the range the broker allows.",
    ErrorCode.REBALANCE_IN_PROGRESS: "The group is rebalancing; the member must rejoin.",
    ErrorCode.INVALID_COMMIT_OFFSET_SIZE: "The committed offset data has an invalid size.",
    ErrorCode.TOPIC_AUTHORIZATION_FAILED: "Not authorized for the topic.",
    ErrorCode.GROUP_AUTHORIZATION_FAILED: "Not authorized for the group.",
    ErrorCode.CLUSTER_AUTHORIZATION_FAILED: "Not authorized for the cluster.",
    ErrorCode.INVALID_TIMESTAMP: "A record timestamp is outside the accepted range.",
    ErrorCode.UNSUPPORTED_SASL_MECHANISM: "The broker does not support the SASL mechanism.",
    ErrorCode.ILLEGAL_SASL_STATE: "The request is not valid in the current SASL state.",
    ErrorCode.UNSUPPORTED_VERSION: "The API version is not supported.",
    ErrorCode.TOPIC_ALREADY_EXISTS: "A topic with this name already exists.",
    ErrorCode.INVALID_PARTITIONS: "The number of partitions is not valid.",
    ErrorCode.INVALID_REPLICATION_FACTOR: "The replication factor is not valid for this cluster.",
    ErrorCode.INVALID_REPLICA_ASSIGNMENT: "The replica assignment is not valid.",
    ErrorCode.INVALID_CONFIG: "The configuration is not valid.",
    ErrorCode.NOT_CONTROLLER: "This node is not the active controller.",
    ErrorCode.INVALID_REQUEST: "The request is malformed or not valid for this broker.",
    ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT: "The message format does not support this request.",
    ErrorCode.POLICY_VIOLATION: "The request violates a configured policy.",
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER: "The producer sequence number is out of order.",
    ErrorCode.DUPLICATE_SEQUENCE_NUMBER: "The producer sequence number is a duplicate.",
    ErrorCode.INVALID_PRODUCER_EPOCH: "The producer epoch is older than the current one.",
    ErrorCode.INVALID_TXN_STATE: "The transactional operation is not valid in the current state.",
    ErrorCode.INVALID_PRODUCER_ID_MAPPING:
        "The producer id is not assigned to this transactional id.",
    ErrorCode.INVALID_TRANSACTION_TIMEOUT: "The transaction timeout exceeds the broker maximum.",
    ErrorCode.CONCURRENT_TRANSACTIONS: "Another operation on the same transaction is in progress.",
    ErrorCode.TRANSACTION_COORDINATOR_FENCED:
        "The transaction coordinator sending markers is no longer current.",
    ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "Not authorized for the transactional id.",
    ErrorCode.SECURITY_DISABLED: "Security features are disabled.",
    ErrorCode.OPERATION_NOT_ATTEMPTED:
        "The operation was skipped because another part of the batch failed.",
    ErrorCode.KAFKA_STORAGE_ERROR: "A disk error occurred while accessing the log.",
    ErrorCode.LOG_DIR_NOT_FOUND: "The log directory is not among the broker's log.dirs.",
    ErrorCode.SASL_AUTHENTICATION_FAILED: "SASL authentication failed.",
    ErrorCode.UNKNOWN_PRODUCER_ID: "The broker has no state for this producer id.",
    ErrorCode.REASSIGNMENT_IN_PROGRESS: "A partition reassignment is in progress.",
    ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED: "Delegation tokens are not enabled.",
    ErrorCode.DELEGATION_TOKEN_NOT_FOUND: "The delegation token does not exist.",
    ErrorCode.DELEGATION_TOKEN_OWNER_MISMATCH: "The principal is not the token's owner or renewer.",
    ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED:
        "Delegation token requests are not allowed on this connection.",
    ErrorCode.DELEGATION_TOKEN_AUTHORIZATION_FAILED: "Not authorized for the delegation token.",
    ErrorCode.DELEGATION_TOKEN_EXPIRED: "The delegation token has expired.",
    ErrorCode.INVALID_PRINCIPAL_TYPE: "The principal type is not supported.",
    ErrorCode.NON_EMPTY_GROUP: "The group still has members.",
    ErrorCode.GROUP_ID_NOT_FOUND: "The group does not exist.",
    ErrorCode.FETCH_SESSION_ID_NOT_FOUND: "The fetch session does not exist.",
    ErrorCode.INVALID_FETCH_SESSION_EPOCH: "The fetch session epoch is not the expected one.",
    ErrorCode.LISTENER_NOT_FOUND:
        "The leader has no listener matching the one the request arrived on.",
    ErrorCode.TOPIC_DELETION_DISABLED: "Topic deletion is disabled.",
    ErrorCode.FENCED_LEADER_EPOCH: "The request's leader epoch is older than the broker's.",
    ErrorCode.UNKNOWN_LEADER_EPOCH: "The request's leader epoch is newer than the broker's.",
    ErrorCode.UNSUPPORTED_COMPRESSION_TYPE:
        "The client cannot read the partition's compression type.",
    ErrorCode.STALE_BROKER_EPOCH: "The broker epoch has changed.",
    ErrorCode.OFFSET_NOT_AVAILABLE: "The offset is not available yet after a leader change.",
    ErrorCode.MEMBER_ID_REQUIRED: "The member must rejoin with the member id it was given.",
    ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE: "The preferred leader is not available.",
    ErrorCode.GROUP_MAX_SIZE_REACHED: "The group has reached its maximum size.",
    ErrorCode.FENCED_INSTANCE_ID: "Another member registered with the same group.instance.id.",
    ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE: "No eligible leader is available for the partition.",
    ErrorCode.ELECTION_NOT_NEEDED: "The partition does not need a leader election.",
    ErrorCode.NO_REASSIGNMENT_IN_PROGRESS: "No partition reassignment is in progress.",
    ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC:
        "Offsets of a topic the group still subscribes to cannot be deleted.",
    ErrorCode.INVALID_RECORD: "A record failed broker-side validation.",
    ErrorCode.UNSTABLE_OFFSET_COMMIT: "Pending transactional offsets must be resolved first.",
    ErrorCode.THROTTLING_QUOTA_EXCEEDED: "The request exceeded a throttling quota.",
    ErrorCode.PRODUCER_FENCED: "A newer producer with the same transactional id fenced this one.",
    ErrorCode.RESOURCE_NOT_FOUND: "The request refers to a resource that does not exist.",
    ErrorCode.DUPLICATE_RESOURCE: "The request names the same resource twice.",
    ErrorCode.UNACCEPTABLE_CREDENTIAL: "The credential does not meet the acceptance criteria.",
    ErrorCode.INCONSISTENT_VOTER_SET: "The sender or receiver is not one of the expected voters.",
    ErrorCode.INVALID_UPDATE_VERSION: "The update version is not valid.",
    ErrorCode.FEATURE_UPDATE_FAILED: "Finalized features could not be updated.",
    ErrorCode.PRINCIPAL_DESERIALIZATION_FAILURE:
        "A forwarded request's principal could not be deserialized.",
    ErrorCode.SNAPSHOT_NOT_FOUND: "The requested snapshot does not exist.",
    ErrorCode.POSITION_OUT_OF_RANGE: "The requested position is outside the snapshot.",
    ErrorCode.UNKNOWN_TOPIC_ID: "This broker does not host a topic with this id.",
    ErrorCode.DUPLICATE_BROKER_REGISTRATION: "This broker id is already registered.",
    ErrorCode.BROKER_ID_NOT_REGISTERED: "The broker id is not registered.",
    ErrorCode.INCONSISTENT_TOPIC_ID: "The topic id does not match the log's topic id.",
    ErrorCode.INCONSISTENT_CLUSTER_ID: "The cluster id does not match this cluster.",
    ErrorCode.TRANSACTIONAL_ID_NOT_FOUND: "The transactional id does not exist.",
    ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR:
        "The fetch session mixes topic ids and names inconsistently.",
    ErrorCode.INELIGIBLE_REPLICA: "The new ISR contains an ineligible replica.",
    ErrorCode.NEW_LEADER_ELECTED: "The partition was updated but its leader has changed.",
    ErrorCode.OFFSET_MOVED_TO_TIERED_STORAGE: "The offset has moved to tiered storage.",
    ErrorCode.FENCED_MEMBER_EPOCH: "The member epoch is fenced; the member must rejoin.",
    ErrorCode.UNRELEASED_INSTANCE_ID: "Another member still holds this instance id.",
    ErrorCode.UNSUPPORTED_ASSIGNOR: "The group does not support the assignor or its version.",
    ErrorCode.STALE_MEMBER_EPOCH: "The member epoch is stale.",
    ErrorCode.MISMATCHED_ENDPOINT_TYPE: "The request was sent to the wrong kind of endpoint.",
    ErrorCode.UNSUPPORTED_ENDPOINT_TYPE: "This endpoint type is not supported.",
    ErrorCode.UNKNOWN_CONTROLLER_ID: "The controller id is not known.",
    ErrorCode.UNKNOWN_SUBSCRIPTION_ID: "The telemetry subscription id is unknown or outdated.",
    ErrorCode.TELEMETRY_TOO_LARGE: "The telemetry payload is larger than the broker accepts.",
    ErrorCode.INVALID_REGISTRATION: "The controller rejected the registration.",
    ErrorCode.TRANSACTION_ABORTABLE:
        "The transaction failed; abort it to keep using the transactional id.",
    ErrorCode.INVALID_RECORD_STATE: "The record state does not allow this acknowledgement.",
    ErrorCode.SHARE_SESSION_NOT_FOUND: "The share session does not exist.",
    ErrorCode.INVALID_SHARE_SESSION_EPOCH: "The share session epoch is not the expected one.",
    ErrorCode.FENCED_STATE_EPOCH: "The share-group state epoch does not match.",
    ErrorCode.INVALID_VOTER_KEY: "The voter key does not match this replica.",
    ErrorCode.DUPLICATE_VOTER: "The voter is already in the voter set.",
    ErrorCode.VOTER_NOT_FOUND: "The voter is not in the voter set.",
    ErrorCode.INVALID_REGULAR_EXPRESSION: "The regular expression is not valid.",
    ErrorCode.REBOOTSTRAP_REQUIRED: "Client metadata is stale; the client should rebootstrap.",
    ErrorCode.STREAMS_INVALID_TOPOLOGY: "The streams topology is not valid.",
    ErrorCode.STREAMS_INVALID_TOPOLOGY_EPOCH: "The streams topology epoch is not valid.",
    ErrorCode.STREAMS_TOPOLOGY_FENCED: "The streams topology epoch is outdated.",
    ErrorCode.SHARE_SESSION_LIMIT_REACHED: "The broker has reached its limit of share sessions.",
    ErrorCode.GROUP_DELETION_FAILED: "The group could not be deleted.",
    ErrorCode.STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED:
        "The streams topology description could not be stored.",
}
