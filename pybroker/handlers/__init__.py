"""Request handlers, one module per API family, and the table of APIs the broker serves.

The version ranges are what each handler implements; ApiVersions advertises exactly these.
"""

from __future__ import annotations

from typing import Any

from protocol.api_keys import ApiKey
from pybroker.handlers import acls, api_versions, configs, fetch, log_dirs, metadata, offsets, produce, producer_ids, topics
from pybroker.handlers import coordinators, elections, features, groups, quorum, transactions
from pybroker.server.dispatch import ApiHandler


def broker_handlers(config: Any = None) -> dict[int, ApiHandler]:
    """The APIs a broker serves; `config` (a BrokerConfig) drops what its settings disable."""
    table = [
        # Produce is advertised from v0 though served from v3, as Kafka 4.x does (KAFKA-18659).
        ApiHandler(ApiKey.Produce, 3, 13, produce.handle_produce, advertised_min=0),
        ApiHandler(ApiKey.Fetch, 4, 18, fetch.handle_fetch),
        ApiHandler(ApiKey.ListOffsets, 1, 11, offsets.handle_list_offsets),
        ApiHandler(ApiKey.Metadata, 0, 13, metadata.handle_metadata),
        ApiHandler(ApiKey.ApiVersions, 0, 4, api_versions.handle_api_versions),
        ApiHandler(ApiKey.CreateTopics, 2, 7, topics.handle_create_topics),
        ApiHandler(ApiKey.DeleteTopics, 1, 6, topics.handle_delete_topics),
        ApiHandler(ApiKey.DeleteRecords, 0, 2, offsets.handle_delete_records),
        ApiHandler(ApiKey.InitProducerId, 0, 5, producer_ids.handle_init_producer_id),
        ApiHandler(ApiKey.OffsetForLeaderEpoch, 2, 4, offsets.handle_offset_for_leader_epoch),
        ApiHandler(ApiKey.DescribeConfigs, 1, 4, configs.handle_describe_configs),
        ApiHandler(ApiKey.AlterConfigs, 0, 2, configs.handle_alter_configs),
        ApiHandler(ApiKey.DescribeLogDirs, 1, 4, log_dirs.handle_describe_log_dirs),
        ApiHandler(ApiKey.CreatePartitions, 0, 3, topics.handle_create_partitions),
        ApiHandler(ApiKey.IncrementalAlterConfigs, 0, 1, configs.handle_incremental_alter_configs),
        ApiHandler(ApiKey.DescribeCluster, 0, 2, metadata.handle_describe_cluster),
        ApiHandler(ApiKey.DescribeTopicPartitions, 0, 0, metadata.handle_describe_topic_partitions),
        ApiHandler(ApiKey.FindCoordinator, 0, 6, coordinators.handle_find_coordinator),
        ApiHandler(ApiKey.UpdateFeatures, 0, 2, features.handle_update_features),
        ApiHandler(ApiKey.DescribeQuorum, 0, 2, quorum.handle_describe_quorum),
        ApiHandler(ApiKey.ElectLeaders, 0, 2, elections.handle_elect_leaders),
        # No authorizer: ACL requests are answered as Kafka answers them without one.
        ApiHandler(ApiKey.DescribeAcls, 1, 3, acls.handle_describe_acls),
        ApiHandler(ApiKey.CreateAcls, 1, 3, acls.handle_create_acls),
        ApiHandler(ApiKey.DeleteAcls, 1, 3, acls.handle_delete_acls),
        # Consumer groups: the classic protocol, committed offsets, and admin.
        ApiHandler(ApiKey.OffsetCommit, 2, 10, groups.handle_offset_commit),
        ApiHandler(ApiKey.OffsetFetch, 1, 10, groups.handle_offset_fetch),
        ApiHandler(ApiKey.JoinGroup, 0, 9, groups.handle_join_group),
        ApiHandler(ApiKey.Heartbeat, 0, 4, groups.handle_heartbeat),
        ApiHandler(ApiKey.LeaveGroup, 0, 5, groups.handle_leave_group),
        ApiHandler(ApiKey.SyncGroup, 0, 5, groups.handle_sync_group),
        ApiHandler(ApiKey.DescribeGroups, 0, 6, groups.handle_describe_groups),
        ApiHandler(ApiKey.ListGroups, 0, 5, groups.handle_list_groups),
        ApiHandler(ApiKey.DeleteGroups, 0, 2, groups.handle_delete_groups),
        ApiHandler(ApiKey.OffsetDelete, 0, 0, groups.handle_offset_delete),
        # The consumer protocol (KIP-848).
        ApiHandler(ApiKey.ConsumerGroupHeartbeat, 0, 1, groups.handle_consumer_group_heartbeat),
        ApiHandler(ApiKey.ConsumerGroupDescribe, 0, 1, groups.handle_consumer_group_describe),
        # Transactions: EndTxn v5, Produce v12 and TxnOffsetCommit v5 get transaction version 2
        # (KIP-890 part 2) once the cluster finalizes transaction.version 2, version 1 before.
        ApiHandler(ApiKey.AddPartitionsToTxn, 0, 5, transactions.handle_add_partitions_to_txn),
        ApiHandler(ApiKey.AddOffsetsToTxn, 0, 4, transactions.handle_add_offsets_to_txn),
        ApiHandler(ApiKey.EndTxn, 0, 5, transactions.handle_end_txn),
        ApiHandler(ApiKey.WriteTxnMarkers, 1, 2, transactions.handle_write_txn_markers),
        ApiHandler(ApiKey.TxnOffsetCommit, 0, 5, transactions.handle_txn_offset_commit),
        ApiHandler(ApiKey.DescribeProducers, 0, 0, transactions.handle_describe_producers),
        ApiHandler(ApiKey.DescribeTransactions, 0, 0, transactions.handle_describe_transactions),
        ApiHandler(ApiKey.ListTransactions, 0, 2, transactions.handle_list_transactions),
    ]
    handlers = {int(h.api_key): h for h in table}
    if config is not None and "consumer" not in _protocols(config):
        for key in (ApiKey.ConsumerGroupHeartbeat, ApiKey.ConsumerGroupDescribe):
            handlers.pop(int(key), None)
    return handlers


def _protocols(config: Any) -> list[str]:
    value = config.get("group.coordinator.rebalance.protocols")
    if isinstance(value, str):
        value = value.split(",")
    return [p.strip() for p in value or []]
