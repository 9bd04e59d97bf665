"""Kafka's API keys: every request type number Apache Kafka has assigned, named as Kafka names
its messages (the JSON spec name without the Request/Response suffix)."""

from __future__ import annotations

from enum import IntEnum


class ApiKey(IntEnum):
    """The API key of a request header. A number is never reused, even after an API is removed."""

    Produce = 0
    Fetch = 1
    ListOffsets = 2
    Metadata = 3
    LeaderAndIsr = 4  # removed in Kafka 4.0 (ZooKeeper-era replication)
    StopReplica = 5  # removed in Kafka 4.0
    UpdateMetadata = 6  # removed in Kafka 4.0
    ControlledShutdown = 7  # removed in Kafka 4.0
    OffsetCommit = 8
    OffsetFetch = 9
    FindCoordinator = 10
    JoinGroup = 11
    Heartbeat = 12
    LeaveGroup = 13
    SyncGroup = 14
    DescribeGroups = 15
    ListGroups = 16
    SaslHandshake = 17
    ApiVersions = 18
    CreateTopics = 19
    DeleteTopics = 20
    DeleteRecords = 21
    InitProducerId = 22
    OffsetForLeaderEpoch = 23
    AddPartitionsToTxn = 24
    AddOffsetsToTxn = 25
    EndTxn = 26
    WriteTxnMarkers = 27
    TxnOffsetCommit = 28
    DescribeAcls = 29
    CreateAcls = 30
    DeleteAcls = 31
    DescribeConfigs = 32
    AlterConfigs = 33
    AlterReplicaLogDirs = 34
    DescribeLogDirs = 35
    SaslAuthenticate = 36
    CreatePartitions = 37
    CreateDelegationToken = 38
    RenewDelegationToken = 39
    ExpireDelegationToken = 40
    DescribeDelegationToken = 41
    DeleteGroups = 42
    ElectLeaders = 43
    IncrementalAlterConfigs = 44
    AlterPartitionReassignments = 45
    ListPartitionReassignments = 46
    OffsetDelete = 47
    DescribeClientQuotas = 48
    AlterClientQuotas = 49
    DescribeUserScramCredentials = 50
    AlterUserScramCredentials = 51
    Vote = 52
    BeginQuorumEpoch = 53
    EndQuorumEpoch = 54
    DescribeQuorum = 55
    AlterPartition = 56
    UpdateFeatures = 57
    Envelope = 58
    FetchSnapshot = 59
    DescribeCluster = 60
    DescribeProducers = 61
    BrokerRegistration = 62
    BrokerHeartbeat = 63
    UnregisterBroker = 64
    DescribeTransactions = 65
    ListTransactions = 66
    AllocateProducerIds = 67
    ConsumerGroupHeartbeat = 68
    ConsumerGroupDescribe = 69
    ControllerRegistration = 70
    GetTelemetrySubscriptions = 71
    PushTelemetry = 72
    AssignReplicasToDirs = 73
    ListConfigResources = 74  # named ListClientMetricsResources before Kafka 4.1 (KIP-1142)
    DescribeTopicPartitions = 75
    ShareGroupHeartbeat = 76
    ShareGroupDescribe = 77
    ShareFetch = 78
    ShareAcknowledge = 79
    AddRaftVoter = 80
    RemoveRaftVoter = 81
    UpdateRaftVoter = 82
    InitializeShareGroupState = 83
    ReadShareGroupState = 84
    WriteShareGroupState = 85
    DeleteShareGroupState = 86
    ReadShareGroupStateSummary = 87
    StreamsGroupHeartbeat = 88
    StreamsGroupDescribe = 89
    DescribeShareGroupOffsets = 90
    AlterShareGroupOffsets = 91
    DeleteShareGroupOffsets = 92
    # Kafka 4.4 additions, beyond the 4.2 feature set pybroker targets.
    StreamsGroupTopologyDescriptionUpdate = 93
    UnregisterController = 94

    @property
    def removed(self) -> bool:
        """Whether Apache Kafka no longer serves any version of this API."""
        return self in REMOVED


# APIs Kafka 4.0 dropped with ZooKeeper; a request for one gets UNSUPPORTED_VERSION or a closed
# connection, never a response body.
REMOVED: frozenset[ApiKey] = frozenset({
    ApiKey.LeaderAndIsr,
    ApiKey.StopReplica,
    ApiKey.UpdateMetadata,
    ApiKey.ControlledShutdown,
})
