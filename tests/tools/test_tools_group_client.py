"""The consumer-group client of the tools against a scripted coordinator: the JoinGroup /
SyncGroup / Heartbeat / OffsetCommit / OffsetFetch / LeaveGroup flow, with every request
encoded at every version the tools may pick."""

from __future__ import annotations

import pytest

from protocol import messages as m
from protocol.errors import ErrorCode
from pybroker.tools.consumer import (
    GroupMember,
    decode_assignment,
    decode_subscription,
    encode_subscription,
    fetch_committed,
)
from pybroker.tools.protocol import CLIENT_MAX_VERSIONS


class ScriptedConn:
    """Encodes each request at its version (as the wire would) and answers from a script."""

    def __init__(self, versions: dict[int, int], script) -> None:
        self.versions = versions
        self.script = script
        self.sent: list[tuple[int, int, object]] = []
        self.host, self.port, self.node_id = "127.0.0.1", 9092, 1

    def supports(self, api_key: int) -> bool:
        return True

    def version(self, api_key: int) -> int:
        return self.versions[api_key]

    def request(self, api_key: int, body, timeout=None):
        version = self.versions[api_key]
        data = m.request_codec(api_key, version).encode(body)
        decoded = m.request_codec(api_key, version).decode(data)
        self.sent.append((api_key, version, decoded))
        return self.script(api_key, version, decoded)

    def close(self) -> None:
        pass


class ScriptedCluster:
    timeout = 5.0

    def __init__(self, conn: ScriptedConn) -> None:
        self.conn = conn

    def coordinator(self, group, **kw):
        return self.conn

    def partitions(self, topic):
        return [0, 1, 2]

    def group_request(self, group, api_key, build, error_of):
        return self.conn.request(api_key, build(self.conn))


def coordinator_script():
    state = {"joins": 0, "heartbeats": 0}
    committed: dict[tuple[str, int], int] = {}

    def answer(api_key, version, req):
        if api_key == 11:  # JoinGroup
            state["joins"] += 1
            assert req.protocol_type == "consumer" and req.protocols[0].name == "range"
            assert decode_subscription(req.protocols[0].metadata) == ["orders"]
            if not req.member_id and version >= 4:
                return m.JoinGroupResponse(error_code=ErrorCode.MEMBER_ID_REQUIRED, member_id="m-1",
                                           generation_id=-1, protocol_name="", leader="", members=[])
            member = req.member_id or "m-1"
            return m.JoinGroupResponse(
                error_code=0, generation_id=state["joins"], protocol_type="consumer", protocol_name="range",
                leader=member, member_id=member,
                members=[m.JoinGroupResponse.JoinGroupResponseMember(member_id=member, metadata=req.protocols[0].metadata),
                         m.JoinGroupResponse.JoinGroupResponseMember(member_id="m-2", metadata=encode_subscription(["orders"]))])
        if api_key == 14:  # SyncGroup
            plans = {a.member_id: decode_assignment(a.assignment) for a in req.assignments}
            assert plans == {req.member_id: [("orders", 0), ("orders", 1)], "m-2": [("orders", 2)]}
            return m.SyncGroupResponse(error_code=0, protocol_type="consumer", protocol_name="range",
                                       assignment=next(a.assignment for a in req.assignments
                                                       if a.member_id == req.member_id))
        if api_key == 12:  # Heartbeat
            state["heartbeats"] += 1
            code = ErrorCode.REBALANCE_IN_PROGRESS if state["heartbeats"] == 2 else 0
            return m.HeartbeatResponse(error_code=code)
        if api_key == 8:  # OffsetCommit
            out = []
            for t in req.topics:
                for p in t.partitions:
                    committed[(t.name, p.partition_index)] = p.committed_offset
                out.append(m.OffsetCommitResponse.OffsetCommitResponseTopic(name=t.name, partitions=[
                    m.OffsetCommitResponse.OffsetCommitResponsePartition(partition_index=p.partition_index, error_code=0)
                    for p in t.partitions]))
            return m.OffsetCommitResponse(topics=out)
        if api_key == 9:  # OffsetFetch
            R = m.OffsetFetchResponse
            if version >= 8:
                parts = [R.OffsetFetchResponsePartitions(partition_index=p, committed_offset=o, metadata="", error_code=0)
                         for (t, p), o in sorted(committed.items())]
                return R(groups=[R.OffsetFetchResponseGroup(group_id=req.groups[0].group_id, error_code=0, topics=[
                    R.OffsetFetchResponseTopics(name="orders", partitions=parts)])])
            parts = [R.OffsetFetchResponsePartition(partition_index=p, committed_offset=o, metadata="", error_code=0)
                     for (t, p), o in sorted(committed.items())]
            return R(error_code=0, topics=[R.OffsetFetchResponseTopic(name="orders", partitions=parts)])
        if api_key == 13:  # LeaveGroup
            return m.LeaveGroupResponse(error_code=0, members=[])
        raise AssertionError(f"unexpected api {api_key}")

    return answer, state


@pytest.mark.parametrize("level", ["highest", "lowest"])
def test_group_member_flow(level):
    lowest = {11: 2, 14: 1, 12: 1, 8: 2, 9: 2, 13: 1}  # versions Kafka 4.x still serves
    versions = {k: (CLIENT_MAX_VERSIONS[k] if level == "highest" else v) for k, v in lowest.items()}
    script, state = coordinator_script()
    conn = ScriptedConn(versions, script)
    cluster = ScriptedCluster(conn)
    member = GroupMember(cluster, "billing", ["orders"])

    assert member.join() == [("orders", 0), ("orders", 1)]
    assert member.member_id == "m-1" and member.generation_id == state["joins"]
    if level == "highest":
        assert state["joins"] == 2  # MEMBER_ID_REQUIRED, then joined with the given id
    assert member.heartbeat() is True
    assert member.heartbeat() is False  # rebalance in progress: rejoin
    assert member.commit({("orders", 0): 5, ("orders", 1): 7}) is True
    commit = next(req for key, _, req in conn.sent if key == 8)
    if versions[8] >= 1:
        assert commit.member_id == "m-1" and commit.generation_id_or_member_epoch == member.generation_id
    assert member.committed([("orders", 0), ("orders", 1)]) == {("orders", 0): 5, ("orders", 1): 7}
    assert fetch_committed(cluster, "billing", None) == {("orders", 0): 5, ("orders", 1): 7}
    member.leave()
    assert conn.sent[-1][0] == 13 and member.member_id == ""
