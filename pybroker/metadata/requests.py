"""What the controller's operations take and return: plain dataclasses that request handlers
fill from Kafka requests and read back into responses, with Kafka's error codes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import IntEnum

from protocol.errors import ErrorCode
from pybroker.metadata.image import Endpoint


@dataclass(frozen=True, slots=True)
class ApiError:
    """An error code with its message (Kafka's ApiError); NONE means success."""

    code: ErrorCode = ErrorCode.NONE
    message: str | None = None

    @classmethod
    def of(cls, code: ErrorCode, message: str | None = None) -> ApiError:
        """The error with `message`, or with the code's default message."""
        return cls(code, message if message is not None else code.message)

    @property
    def ok(self) -> bool:
        return self.code == ErrorCode.NONE


NO_ERROR = ApiError()


# --- topics ----------------------------------------------------------------------------------


@dataclass(slots=True)
class CreatableTopic:
    """One topic of a CreateTopics request. -1 means the broker default for num_partitions
    and replication_factor; `assignments` maps partition -> replica broker ids (preferred
    leader first) and then both must be -1."""

    name: str
    num_partitions: int = -1
    replication_factor: int = -1
    assignments: dict[int, list[int]] = field(default_factory=dict)
    configs: dict[str, str | None] = field(default_factory=dict)


@dataclass(slots=True)
class CreateTopicsRequest:
    topics: list[CreatableTopic]
    validate_only: bool = False


@dataclass(slots=True)
class CreateTopicResult:
    name: str
    error: ApiError = NO_ERROR
    topic_id: uuid.UUID = uuid.UUID(int=0)
    num_partitions: int = -1
    replication_factor: int = -1
    configs: dict[str, str] = field(default_factory=dict)  # the explicitly set configs


@dataclass(slots=True)
class DeleteTopicsRequest:
    names: list[str] = field(default_factory=list)
    topic_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass(slots=True)
class DeleteTopicResult:
    name: str | None
    topic_id: uuid.UUID
    error: ApiError = NO_ERROR


@dataclass(slots=True)
class CreatePartitionsTopic:
    """Grow topic `name` to `count` partitions; `assignments` (one replica list per new
    partition) is optional."""

    name: str
    count: int
    assignments: list[list[int]] | None = None


@dataclass(slots=True)
class CreatePartitionsRequest:
    topics: list[CreatePartitionsTopic]
    validate_only: bool = False


@dataclass(slots=True)
class CreatePartitionsResult:
    name: str
    error: ApiError = NO_ERROR


# --- configs ---------------------------------------------------------------------------------


class AlterConfigOp(IntEnum):
    SET = 0
    DELETE = 1
    APPEND = 2
    SUBTRACT = 3


@dataclass(slots=True)
class AlterConfigsResource:
    """AlterConfigs: replace every explicit config of the resource with `configs`."""

    resource_type: int
    resource_name: str
    configs: dict[str, str | None] = field(default_factory=dict)


@dataclass(slots=True)
class AlterableConfig:
    name: str
    op: AlterConfigOp
    value: str | None = None


@dataclass(slots=True)
class IncrementalAlterConfigsResource:
    resource_type: int
    resource_name: str
    configs: list[AlterableConfig] = field(default_factory=list)


@dataclass(slots=True)
class AlterConfigsResult:
    resource_type: int
    resource_name: str
    error: ApiError = NO_ERROR


# --- brokers and producer ids ------------------------------------------------------------------


@dataclass(slots=True)
class BrokerRegistrationRequest:
    broker_id: int
    cluster_id: str
    incarnation_id: uuid.UUID
    listeners: list[Endpoint]
    features: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (min, max)
    rack: str | None = None
    log_dirs: list[uuid.UUID] = field(default_factory=list)
    previous_broker_epoch: int = -1


@dataclass(slots=True)
class BrokerRegistrationReply:
    error: ApiError = NO_ERROR
    broker_epoch: int = -1


@dataclass(slots=True)
class BrokerHeartbeatRequest:
    broker_id: int
    broker_epoch: int
    current_metadata_offset: int
    want_fence: bool = False
    want_shut_down: bool = False


@dataclass(slots=True)
class BrokerHeartbeatReply:
    error: ApiError = NO_ERROR
    is_caught_up: bool = False
    is_fenced: bool = True
    should_shut_down: bool = False


@dataclass(slots=True)
class ProducerIdsBlock:
    """A block of producer ids handed to a broker: [first_producer_id, +size)."""

    error: ApiError = NO_ERROR
    first_producer_id: int = -1
    size: int = 0


# --- features ----------------------------------------------------------------------------------


class UpgradeType(IntEnum):
    """How a feature level may move (Kafka's FeatureUpdate.UpgradeType, KIP-778)."""

    UNKNOWN = 0
    UPGRADE = 1
    SAFE_DOWNGRADE = 2
    UNSAFE_DOWNGRADE = 3


@dataclass(frozen=True, slots=True)
class FeatureUpdate:
    """One feature of an UpdateFeatures request: the level to finalize (0 removes the feature)
    and the upgrade type (an int, so that codes Kafka does not know reach the controller)."""

    name: str
    level: int
    upgrade_type: int = UpgradeType.UPGRADE
