"""Consumer-group tools: the console consumer in a group, and list / describe with lag / reset
offsets / delete. They run once the broker under test advertises the group APIs."""

from __future__ import annotations

import io
import sys
import threading
import time

import pytest

from pybroker.cli import main
from pybroker.tools.client import Cluster
from pybroker.tools.consumer import GroupMember

GROUP_APIS = {8: "OffsetCommit", 9: "OffsetFetch", 10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat",
              13: "LeaveGroup", 14: "SyncGroup", 15: "DescribeGroups", 16: "ListGroups", 42: "DeleteGroups"}


@pytest.fixture
def bs(broker) -> str:
    with Cluster(broker.bootstrap_servers) as cluster:
        served = cluster.any_connection().protocol.versions
    missing = [name for key, name in GROUP_APIS.items() if key not in served]
    if missing:
        pytest.skip(f"the broker under test does not advertise the group APIs yet ({', '.join(missing)})")
    return broker.bootstrap_servers


def tool(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def produce(capsys, monkeypatch, bs: str, topic: str, lines: list[str], *extra: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{x}\n" for x in lines)))
    assert tool(capsys, "produce", "--bootstrap-server", bs, "--topic", topic, *extra)[0] == 0


def describe_rows(capsys, bs: str, group: str) -> tuple[str, list[list[str]]]:
    code, out, err = tool(capsys, "groups", "--bootstrap-server", bs, "--describe", "--group", group)
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.strip()]
    header = next(i for i, line in enumerate(lines) if line.startswith("GROUP"))
    assert lines[header].split() == ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                                     "CONSUMER-ID", "HOST", "CLIENT-ID"]
    return out, [line.split() for line in lines[header + 1 :]]


def test_group_consume_describe_reset_delete(capsys, monkeypatch, broker, bs, topic_name):
    group = f"g-{topic_name}"
    broker.create_topic(topic_name, partitions=2)
    # Keyed records spread over both partitions (records without keys stick to one per batch).
    produce(capsys, monkeypatch, bs, topic_name, [f"k{i}:m{i}" for i in range(10)],
            "--property", "parse.key=true", "--property", "key.separator=:")

    code, out, err = tool(capsys, "consume", "--bootstrap-server", bs, "--topic", topic_name, "--group", group,
                          "--from-beginning", "--max-messages", "10", "--timeout-ms", "10000")
    assert code == 0, err
    assert sorted(out.split()) == sorted(f"m{i}" for i in range(10))

    code, out, _ = tool(capsys, "groups", "--bootstrap-server", bs, "--list")
    assert group in out.splitlines()

    out, rows = describe_rows(capsys, bs, group)
    assert f"Consumer group '{group}' has no active members." in out
    assert {r[2] for r in rows} == {"0", "1"}
    for r in rows:
        assert r[0] == group and r[1] == topic_name and r[3] == r[4] and r[5] == "0" and r[6:] == ["-", "-", "-"]

    produce(capsys, monkeypatch, bs, topic_name, ["late1", "late2", "late3"])
    _, rows = describe_rows(capsys, bs, group)
    assert sum(int(r[5]) for r in rows) == 3

    # A second run of the group continues where the first committed.
    code, out, _ = tool(capsys, "consume", "--bootstrap-server", bs, "--topic", topic_name, "--group", group,
                        "--max-messages", "3", "--timeout-ms", "10000")
    assert sorted(out.split()) == ["late1", "late2", "late3"]

    code, out, err = tool(capsys, "groups", "--bootstrap-server", bs, "--reset-offsets", "--group", group,
                          "--topic", topic_name, "--to-earliest", "--dry-run")
    assert code == 0, err
    assert [line.split() for line in out.splitlines() if line.strip()][0] == ["GROUP", "TOPIC", "PARTITION",
                                                                             "NEW-OFFSET"]
    _, rows = describe_rows(capsys, bs, group)
    assert sum(int(r[5]) for r in rows) == 0  # a dry run changes nothing

    code, out, err = tool(capsys, "groups", "--bootstrap-server", bs, "--reset-offsets", "--group", group,
                          "--topic", f"{topic_name}:0", "--to-offset", "1", "--execute")
    assert code == 0, err
    _, rows = describe_rows(capsys, bs, group)
    assert next(r for r in rows if r[2] == "0")[3] == "1"

    code, _, err = tool(capsys, "groups", "--bootstrap-server", bs, "--reset-offsets", "--group", group,
                        "--all-topics", "--to-datetime", "2000-01-01T00:00:00.000", "--execute")
    assert code == 0, err
    _, rows = describe_rows(capsys, bs, group)
    assert all(r[3] == "0" for r in rows) and sum(int(r[5]) for r in rows) == 13

    code, _, _ = tool(capsys, "groups", "--bootstrap-server", bs, "--reset-offsets", "--group", group,
                      "--all-topics", "--to-latest", "--execute")
    _, rows = describe_rows(capsys, bs, group)
    assert sum(int(r[5]) for r in rows) == 0

    code, out, _ = tool(capsys, "groups", "--bootstrap-server", bs, "--delete", "--group", group)
    assert code == 0 and out.strip() == f"Deletion of requested consumer groups ('{group}') was successful."
    code, out, _ = tool(capsys, "groups", "--bootstrap-server", bs, "--list")
    assert group not in out.splitlines()


def test_reset_refuses_an_active_group(capsys, broker, bs, topic_name):
    group = f"g-{topic_name}"
    broker.create_topic(topic_name)
    with Cluster(bs) as cluster:
        member = GroupMember(cluster, group, [topic_name])
        assert member.join() == [(topic_name, 0)]
        try:
            code, _, err = tool(capsys, "groups", "--bootstrap-server", bs, "--reset-offsets", "--group", group,
                                "--topic", topic_name, "--to-earliest", "--execute")
            assert code == 1 and "inactive" in err
            code, out, _ = tool(capsys, "groups", "--bootstrap-server", bs, "--describe", "--group", group,
                                "--members")
            assert member.member_id in out
        finally:
            member.leave()


def test_two_members_split_the_partitions(broker, bs, topic_name):
    group = f"g-{topic_name}"
    broker.create_topic(topic_name, partitions=4)
    results: dict[int, list] = {}
    clusters = [Cluster(bs), Cluster(bs)]
    members = [GroupMember(c, group, [topic_name], rebalance_timeout_ms=10_000) for c in clusters]

    def run(i: int) -> None:
        results[i] = members[i].join()

    try:
        first = threading.Thread(target=run, args=(0,))
        first.start()
        first.join(15)
        second = threading.Thread(target=run, args=(1,))
        second.start()
        # The first member learns of the rebalance through its heartbeat and rejoins.
        deadline = time.monotonic() + 15
        while second.is_alive() and time.monotonic() < deadline:
            if not members[0].heartbeat():
                run(0)
            time.sleep(0.05)
        second.join(1)
        assert not second.is_alive()
        if not members[0].heartbeat():
            run(0)
        assert sorted(results[0] + results[1]) == [(topic_name, p) for p in range(4)]
        assert len(results[0]) == len(results[1]) == 2
    finally:
        for member, cluster in zip(members, clusters):
            member.leave()
            cluster.close()
