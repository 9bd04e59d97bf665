"""Cluster metadata: the metadata log's records, the immutable image they build, the quorum
controller that validates changes and writes them, and the loader that keeps the image.

    system = await start_metadata(node_id, cluster_id, metadata_dir, voters, broker_config)
    await system.register_broker(listeners)                  # RegisterBrokerRecord, unfenced
    results = await system.controller.create_topics(CreateTopicsRequest([...]))
    system.loader.install_publisher(on_update)                # (delta, image) per applied batch
    image = system.image                                       # read-only, O(1) lookups
    await system.close()

See docs/metadata.md.
"""

from pybroker.metadata.controller import (
    ControllerConfig, ControllerContext, ControllerResult, NotControllerError, QuorumController,
    validate_topic_name,
)
from pybroker.metadata.features import (
    LATEST_METADATA_VERSION, METADATA_VERSION, SUPPORTED_FEATURES, bootstrap_records,
)
from pybroker.metadata.image import (
    NO_LEADER, BrokerRegistration, ConfigResource, ConfigResourceType, Endpoint, LeaderRecoveryState,
    LocalReplicaChanges, MetadataApplyError, MetadataDelta, MetadataImage, PartitionChange,
    PartitionRegistration, Provenance, QuorumInfo, SecurityProtocol, TopicDelta, TopicImage,
    image_from_records,
)
from pybroker.metadata.loader import LoaderManifest, MetadataLoader, MetadataPublisher
from pybroker.metadata.records import (
    RECORD_TYPES, MetadataRecordError, decode_record, encode_record, encode_records,
)
from pybroker.metadata.requests import (
    NO_ERROR, AlterableConfig, AlterConfigOp, AlterConfigsResource, AlterConfigsResult, ApiError,
    BrokerHeartbeatReply, BrokerHeartbeatRequest, BrokerRegistrationReply, BrokerRegistrationRequest,
    CreatableTopic, CreatePartitionsRequest, CreatePartitionsResult, CreatePartitionsTopic,
    CreateTopicResult, CreateTopicsRequest, DeleteTopicResult, DeleteTopicsRequest,
    IncrementalAlterConfigsResource, ProducerIdsBlock,
)
from pybroker.metadata.system import MetadataSystem, SnapshotGenerator, start_metadata

__all__ = [
    "LATEST_METADATA_VERSION",
    "METADATA_VERSION",
    "NO_ERROR",
    "NO_LEADER",
    "RECORD_TYPES",
    "SUPPORTED_FEATURES",
    "AlterConfigOp",
    "AlterConfigsResource",
    "AlterConfigsResult",
    "AlterableConfig",
    "ApiError",
    "BrokerHeartbeatReply",
    "BrokerHeartbeatRequest",
    "BrokerRegistration",
    "BrokerRegistrationReply",
    "BrokerRegistrationRequest",
    "ConfigResource",
    "ConfigResourceType",
    "ControllerConfig",
    "ControllerContext",
    "ControllerResult",
    "CreatableTopic",
    "CreatePartitionsRequest",
    "CreatePartitionsResult",
    "CreatePartitionsTopic",
    "CreateTopicResult",
    "CreateTopicsRequest",
    "DeleteTopicResult",
    "DeleteTopicsRequest",
    "Endpoint",
    "IncrementalAlterConfigsResource",
    "LeaderRecoveryState",
    "LoaderManifest",
    "LocalReplicaChanges",
    "MetadataApplyError",
    "MetadataDelta",
    "MetadataImage",
    "MetadataLoader",
    "MetadataPublisher",
    "MetadataRecordError",
    "MetadataSystem",
    "NotControllerError",
    "PartitionChange",
    "PartitionRegistration",
    "ProducerIdsBlock",
    "Provenance",
    "QuorumController",
    "QuorumInfo",
    "SecurityProtocol",
    "SnapshotGenerator",
    "TopicDelta",
    "TopicImage",
    "bootstrap_records",
    "decode_record",
    "encode_record",
    "encode_records",
    "image_from_records",
    "start_metadata",
    "validate_topic_name",
]
