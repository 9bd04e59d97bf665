"""`pybroker groups`: list, describe (with lag), reset offsets of, and delete consumer groups,
as kafka-consumer-groups does."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any, TextIO

from protocol import messages as m
from protocol.errors import ErrorCode
from pybroker.tools.client import Cluster, KafkaError
from pybroker.tools.common import ToolError
from pybroker.tools.consumer import EARLIEST, LATEST, commit_offsets, decode_assignment, fetch_committed
from pybroker.tools.protocol import UnsupportedApiError, check

INACTIVE = ("Empty", "Dead")


def list_groups(cluster: Cluster) -> list[tuple[str, str, str]]:
    """(group id, protocol type, state) of every group any broker coordinates."""
    seen: dict[str, tuple[str, str, str]] = {}
    for conn in cluster.all_connections():
        if not conn.supports(16):
            raise UnsupportedApiError("the broker does not serve ListGroups (no consumer groups)")
        response = conn.request(16, m.ListGroupsRequest(states_filter=[], types_filter=[]))
        check(response.error_code, "ListGroups")
        for g in response.groups:
            seen[g.group_id] = (g.group_id, g.protocol_type, g.group_state or "")
    return sorted(seen.values())


def describe_group(cluster: Cluster, group: str) -> Any:
    response = cluster.group_request(group, 15, lambda conn: m.DescribeGroupsRequest(
        groups=[group], include_authorized_operations=False), lambda r: r.groups[0].error_code if r.groups else 0)
    described = response.groups[0]
    check(described.error_code, described.error_message or f"group {group!r}")
    return described


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    print(file=out)
    for r in rows:
        print(" ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip(), file=out)


def describe(cluster: Cluster, args: argparse.Namespace, out: TextIO) -> int:
    groups = [g for g, _, _ in list_groups(cluster)] if args.all_groups else list(args.group or ())
    if not groups:
        raise ToolError("--describe needs --group or --all-groups")
    status = 0
    for group in groups:
        d = describe_group(cluster, group)
        if d.group_state == "Dead":
            print(f"Error: Consumer group '{group}' does not exist.", file=sys.stderr)
            status = 1
            continue
        if args.state:
            conn = cluster.coordinator(group)
            _table([["GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"],
                    [group, f"{conn.host}:{conn.port} ({conn.node_id})", d.protocol_data or "", d.group_state,
                     str(len(d.members))]], out)
            continue
        if args.members:
            rows = [["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"]]
            for mem in d.members:
                rows.append([group, mem.member_id, mem.client_host, mem.client_id,
                             str(len(decode_assignment(mem.member_assignment)))])
            if not d.members:
                print(f"\nConsumer group '{group}' has no active members.", file=out)
            else:
                _table(rows, out)
            continue
        owners: dict[tuple[str, int], Any] = {}
        for mem in d.members:
            for tp in decode_assignment(mem.member_assignment):
                owners[tp] = mem
        committed = fetch_committed(cluster, group, None)
        tps = sorted(set(committed) | set(owners))
        ends = cluster.list_offsets({tp: LATEST for tp in tps}) if tps else {}
        if not d.members:
            print(f"\nConsumer group '{group}' has no active members.", file=out)
        rows = [["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
                 "CLIENT-ID"]]
        for tp in tps:
            current = committed.get(tp, -1)
            end = ends.get(tp, -1)
            mem = owners.get(tp)
            lag = str(max(end - current, 0)) if current >= 0 and end >= 0 else "-"
            rows.append([group, tp[0], str(tp[1]), str(current) if current >= 0 else "-",
                         str(end) if end >= 0 else "-", lag,
                         mem.member_id if mem else "-", mem.client_host if mem else "-",
                         mem.client_id if mem else "-"])
        if len(rows) > 1:
            _table(rows, out)
        elif d.members:
            print(f"\nConsumer group '{group}' has no committed offsets or assigned partitions.", file=out)
    return status


def parse_datetime(text: str) -> int:
    """'YYYY-MM-DDTHH:mm:SS[.sss][zone]' (local time without a zone) to epoch milliseconds."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ToolError(f"--to-datetime {text!r} is not YYYY-MM-DDTHH:mm:SS.sss") from None
    return int(value.timestamp() * 1000) if value.tzinfo else int(value.astimezone().timestamp() * 1000)


def _scope(cluster: Cluster, args: argparse.Namespace, committed: dict[tuple[str, int], int]) -> list[tuple[str, int]]:
    if args.all_topics:
        return sorted(committed)
    if not args.topic:
        raise ToolError("--reset-offsets needs --topic or --all-topics")
    tps: list[tuple[str, int]] = []
    for spec in args.topic:
        topic, _, parts = spec.partition(":")
        try:
            available = cluster.partitions(topic)
        except KafkaError as exc:
            raise ToolError(f"topic {topic!r}: {exc}") from None
        if parts:
            wanted = [int(p) for p in parts.split(",") if p.strip()]
            missing = [p for p in wanted if p not in available]
            if missing:
                raise ToolError(f"topic {topic!r} has no partition {missing[0]}")
            tps += [(topic, p) for p in wanted]
        else:
            tps += [(topic, p) for p in available]
    return sorted(set(tps))


def reset_offsets(cluster: Cluster, args: argparse.Namespace, out: TextIO) -> int:
    if not args.group or len(args.group) != 1:
        raise ToolError("--reset-offsets needs exactly one --group")
    group = args.group[0]
    targets = [a for a in ("to_earliest", "to_latest", "to_datetime", "to_offset", "shift_by") if
               getattr(args, a) not in (None, False)]
    if len(targets) != 1:
        raise ToolError("--reset-offsets needs one of --to-earliest, --to-latest, --to-datetime, --to-offset, --shift-by")
    if args.execute and args.dry_run:
        raise ToolError("--execute and --dry-run exclude each other")
    d = describe_group(cluster, group)
    if d.group_state not in INACTIVE:
        raise ToolError(f"Assignments can only be reset if the group '{group}' is inactive, but the current state "
                        f"is {d.group_state}.")
    committed = fetch_committed(cluster, group, None)
    tps = _scope(cluster, args, committed)
    if not tps:
        raise ToolError(f"no partitions to reset for group {group!r}")
    earliest = cluster.list_offsets({tp: EARLIEST for tp in tps})
    latest = cluster.list_offsets({tp: LATEST for tp in tps})
    target = targets[0]
    new: dict[tuple[str, int], int] = {}
    if target == "to_earliest":
        new = {tp: earliest[tp] for tp in tps}
    elif target == "to_latest":
        new = {tp: latest[tp] for tp in tps}
    elif target == "to_datetime":
        ts = parse_datetime(args.to_datetime)
        found = cluster.list_offsets({tp: ts for tp in tps})
        new = {tp: found[tp] if found[tp] >= 0 else latest[tp] for tp in tps}
    elif target == "to_offset":
        new = {tp: min(max(args.to_offset, earliest[tp]), latest[tp]) for tp in tps}
    else:
        new = {tp: min(max(committed.get(tp, latest[tp]) + args.shift_by, earliest[tp]), latest[tp]) for tp in tps}
    if not args.execute and not args.dry_run:
        print("WARN: No action will be performed as the --execute option is missing. In a future major release, "
              "the default behavior of this command will be to prompt the user before executing the reset rather "
              "than doing a dry run. You should add the --dry-run option explicitly if you are scripting this "
              "command and want to keep the current default behavior without prompting.", file=sys.stderr)
    if args.execute:
        errors = commit_offsets(cluster, group, new)
        failed = {tp: code for tp, code in errors.items() if code}
        if failed:
            tp, code = next(iter(sorted(failed.items())))
            raise ToolError(f"could not reset {tp[0]}-{tp[1]}: {ErrorCode.for_code(code).name}")
    rows = [["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"]]
    rows += [[group, tp[0], str(tp[1]), str(off)] for tp, off in sorted(new.items())]
    _table(rows, out)
    return 0


def delete(cluster: Cluster, args: argparse.Namespace, out: TextIO) -> int:
    groups = [g for g, _, _ in list_groups(cluster)] if args.all_groups else list(args.group or ())
    if not groups:
        raise ToolError("--delete needs --group or --all-groups")
    failures: dict[str, str] = {}
    for group in groups:
        response = cluster.group_request(group, 42, lambda conn: m.DeleteGroupsRequest(groups_names=[group]),
                                         lambda r: r.results[0].error_code if r.results else 0)
        for r in response.results:
            if r.error_code:
                code = ErrorCode.for_code(r.error_code)
                failures[r.group_id] = f"{code.name}: {code.message}"
    deleted = [g for g in groups if g not in failures]
    if deleted:
        names = ", ".join(f"'{g}'" for g in deleted)
        print(f"Deletion of requested consumer groups ({names}) was successful.", file=out)
    if failures:
        print("Deletion of some consumer groups failed:", file=out)
        for g, why in failures.items():
            print(f"* Group '{g}' could not be deleted due to: {why}", file=out)
        return 1
    return 0


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    actions = [a for a in ("list", "describe", "reset_offsets", "delete") if getattr(args, a)]
    if len(actions) != 1:
        raise ToolError("exactly one of --list, --describe, --reset-offsets, --delete is required")
    with Cluster(args.bootstrap_server, timeout=args.timeout, client_id=args.client_id) as cluster:
        try:
            if actions[0] == "list":
                for group, protocol_type, state in list_groups(cluster):
                    if protocol_type in ("consumer", ""):
                        print(f"{group}\t{state}" if args.state else group, file=out)
                return 0
            return {"describe": describe, "reset_offsets": reset_offsets, "delete": delete}[actions[0]](
                cluster, args, out)
        except UnsupportedApiError as exc:
            raise ToolError(str(exc)) from None
        except KafkaError as exc:
            raise ToolError(f"Error: {exc}") from None

