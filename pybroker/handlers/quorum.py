"""DescribeQuorum: the metadata quorum's leader, epoch, high watermark and replicas, as
`kafka-metadata-quorum describe --status/--replication` asks for it.

A Kafka broker forwards this request to the active controller; here the controller runs in the
same process, so the answer comes from the local Raft client. The quorum is static
(controller.quorum.voters, kraft.version 0), so voters carry no directory id.
"""

from __future__ import annotations

import uuid
from typing import Any

from protocol.errors import ErrorCode
from protocol.messages import DescribeQuorumResponse
from pybroker.server.dispatch import RequestContext
from raft.log import METADATA_TOPIC

R = DescribeQuorumResponse
_NO_DIRECTORY = uuid.UUID(int=0)


def handle_describe_quorum(ctx: RequestContext, request: Any) -> Any:
    wanted = [(t.topic_name, p.partition_index) for t in request.topics for p in t.partitions]
    if wanted != [(METADATA_TOPIC, 0)]:
        # Kafka answers anything but exactly the metadata partition with a top-level error.
        return R(error_code=ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                 error_message=ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.name if ctx.api_version >= 2 else None)
    broker = ctx.broker
    raft = broker.metadata.raft
    leader = raft.leader_and_epoch()
    if not raft.is_leader:
        partition = R.PartitionData(partition_index=0, error_code=ErrorCode.NOT_LEADER_OR_FOLLOWER,
                                    leader_id=-1 if leader.leader_id is None else leader.leader_id,
                                    leader_epoch=leader.epoch, high_watermark=-1)
    else:
        now = broker.clock_ms()
        hw = raft.high_watermark
        # A sole voter is its own leader: it has fetched and caught up with itself just now.
        voters = [R.ReplicaState(replica_id=v, replica_directory_id=_NO_DIRECTORY, log_end_offset=raft.log_end_offset,
                                 last_fetch_timestamp=now, last_caught_up_timestamp=now)
                  for v in sorted(raft.voters)]
        partition = R.PartitionData(partition_index=0, error_code=ErrorCode.NONE, leader_id=leader.leader_id,
                                    leader_epoch=leader.epoch, high_watermark=-1 if hw is None else hw,
                                    current_voters=voters, observers=[])
    nodes = []
    if ctx.api_version >= 2:
        listeners = [R.Listener(name=name, host=host, port=port) for name, host, port in broker.controller_endpoints()]
        nodes = [R.Node(node_id=v, listeners=listeners) for v in sorted(raft.voters) if v == broker.node_id]
    return R(error_code=ErrorCode.NONE,
             topics=[R.TopicData(topic_name=METADATA_TOPIC, partitions=[partition])], nodes=nodes)
