"""The group coordinator shard: the state machine of one `__consumer_offsets` partition.

Signatures (stable; the runtime and the request handlers are written against them)
----------------------------------------------------------------------------------

    GroupCoordinatorShard(partition: int, config: BrokerConfig,
                          metadata: Callable[[], MetadataImage], *,
                          new_uuid: Callable[[], uuid.UUID] = uuid.uuid4)

CoordinatorShard protocol (pybroker.coordinator.shard):

    replay(offset, record: CoordinatorRecord | TxnMarker, producer_id, producer_epoch) -> None
    on_loaded(now_ms) -> Effects          re-arms session timeouts and the offset expiry timer
    on_timer(key, now_ms) -> Effects      keys are tuples whose first item names the timer
    on_unloaded() -> Effects              answers every parked JoinGroup/SyncGroup NOT_COORDINATOR
    on_metadata_update(image, now_ms) -> Effects
                                          a new metadata image: consumer groups whose subscribed
                                          topics changed get a new target assignment

Requests. Every one is `(request, version, client_id, client_host, token, now_ms) -> Effects`,
where `request` is the decoded request (or, where noted, its per-group part) and `version` its
api version. Responses are Kafka response message objects (protocol.messages classes) to be
encoded at `version`, or the per-group struct of a multi-group response:

    join_group(JoinGroupRequest)              -> JoinGroupResponse. A member's JoinGroup may be
                                                 parked: its response then comes in the Effects of
                                                 a later operation or timer (same token).
    sync_group(SyncGroupRequest)              -> SyncGroupResponse, possibly parked likewise.
    heartbeat(HeartbeatRequest)               -> HeartbeatResponse
    leave_group(LeaveGroupRequest)            -> LeaveGroupResponse (v0-2: member_id; v3+: members)
    offset_commit(OffsetCommitRequest)        -> OffsetCommitResponse
    txn_offset_commit(TxnOffsetCommitRequest) -> TxnOffsetCommitResponse; the Effects carry
                                                 producer_id/producer_epoch (a transactional batch)
    offset_fetch(OffsetFetchRequest.OffsetFetchRequestGroup, ..., *, require_stable=False)
                                              -> OffsetFetchResponse.OffsetFetchResponseGroup.
                                                 One group of a v8+ request; for v1-7 build the
                                                 group part with pybroker.groups.api
                                                 (offset_fetch_groups / offset_fetch_response).
    offset_delete(OffsetDeleteRequest)        -> OffsetDeleteResponse
    list_groups(ListGroupsRequest)            -> list[ListGroupsResponse.ListedGroup] (this shard's)
    describe_groups(group_id: str)            -> DescribeGroupsResponse.DescribedGroup
    delete_groups(group_id: str)              -> DeleteGroupsResponse.DeletableGroupResult
    consumer_group_heartbeat(ConsumerGroupHeartbeatRequest)
                                              -> ConsumerGroupHeartbeatResponse
    consumer_group_describe(group_id: str)    -> ConsumerGroupDescribeResponse.DescribedGroup

`throttle_time_ms` and `authorized_operations` are left at their defaults for the handler.

What the shard assumes of the runtime
-------------------------------------
- An operation's records are replayed before the next operation or timer of the shard runs.
- Responses are released once the records of their operation, and of every operation before it,
  are committed; a response of an operation that writes nothing is likewise released only when
  everything before it is committed (Kafka reads at the last committed offset).
- Timer deadlines are absolute (`now_ms` clock). Timers are set even if the append fails.
- Classic group membership is kept in memory, as Kafka keeps it; the GroupMetadata records this
  shard writes are snapshots that are not re-applied when replayed (Kafka's replayRecords=false).
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, Hashable

from pybroker.coordinator.shard import CoordinatorRecord, Effects, TxnMarker


class GroupCoordinatorShard:
    """Groups and committed offsets of one `__consumer_offsets` partition."""

    def __init__(self, partition: int, config: Any, metadata: Callable[[], Any], *,
                 new_uuid: Callable[[], uuid.UUID] = uuid.uuid4) -> None:
        self.partition = partition
        self.config = config
        self.metadata = metadata
        self.new_uuid = new_uuid

    # -- CoordinatorShard --------------------------------------------------------------------

    def replay(self, offset: int, record: CoordinatorRecord | TxnMarker, producer_id: int,
               producer_epoch: int) -> None:
        raise NotImplementedError

    def on_loaded(self, now_ms: int) -> Effects:
        raise NotImplementedError

    def on_timer(self, key: Hashable, now_ms: int) -> Effects:
        raise NotImplementedError

    def on_unloaded(self) -> Effects:
        raise NotImplementedError

    def on_metadata_update(self, image: Any, now_ms: int) -> Effects:
        raise NotImplementedError

    # -- classic protocol --------------------------------------------------------------------

    def join_group(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                   now_ms: int) -> Effects:
        raise NotImplementedError

    def sync_group(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                   now_ms: int) -> Effects:
        raise NotImplementedError

    def heartbeat(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                  now_ms: int) -> Effects:
        raise NotImplementedError

    def leave_group(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                    now_ms: int) -> Effects:
        raise NotImplementedError

    # -- offsets -----------------------------------------------------------------------------

    def offset_commit(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                      now_ms: int) -> Effects:
        raise NotImplementedError

    def txn_offset_commit(self, request: Any, version: int, client_id: str, client_host: str,
                          token: Any, now_ms: int) -> Effects:
        raise NotImplementedError

    def offset_fetch(self, group: Any, version: int, client_id: str, client_host: str, token: Any,
                     now_ms: int, *, require_stable: bool = False) -> Effects:
        raise NotImplementedError

    def offset_delete(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                      now_ms: int) -> Effects:
        raise NotImplementedError

    # -- admin -------------------------------------------------------------------------------

    def list_groups(self, request: Any, version: int, client_id: str, client_host: str, token: Any,
                    now_ms: int) -> Effects:
        raise NotImplementedError

    def describe_groups(self, group_id: str, version: int, client_id: str, client_host: str,
                        token: Any, now_ms: int) -> Effects:
        raise NotImplementedError

    def delete_groups(self, group_id: str, version: int, client_id: str, client_host: str,
                      token: Any, now_ms: int) -> Effects:
        raise NotImplementedError

    # -- consumer protocol (KIP-848) ---------------------------------------------------------

    def consumer_group_heartbeat(self, request: Any, version: int, client_id: str, client_host: str,
                                 token: Any, now_ms: int) -> Effects:
        raise NotImplementedError

    def consumer_group_describe(self, group_id: str, version: int, client_id: str,
                                client_host: str, token: Any, now_ms: int) -> Effects:
        raise NotImplementedError
