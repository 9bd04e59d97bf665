"""`pybroker consume`: the console consumer. Prints records as kafka-console-consumer's default
formatter does; with --group it is a member of a classic consumer group and commits offsets."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import TextIO

from pybroker.tools.client import Cluster, KafkaError
from pybroker.tools.common import ToolError
from pybroker.tools.consumer import EARLIEST, LATEST, ConsumedRecord, Fetcher, GroupMember
from pybroker.tools.produce import _true, parse_properties
from pybroker.tools.protocol import UnsupportedApiError

TIMESTAMP_TYPES = {0: "CreateTime", 1: "LogAppendTime"}


@dataclass(slots=True)
class Formatter:
    """Kafka's DefaultMessageFormatter: timestamp, partition, offset, headers, key, value."""

    print_timestamp: bool = False
    print_partition: bool = False
    print_offset: bool = False
    print_headers: bool = False
    print_key: bool = False
    print_value: bool = True
    key_separator: str = "\t"
    line_separator: str = "\n"
    headers_separator: str = ","
    headers_key_separator: str = ":"
    null_literal: str = "null"

    @classmethod
    def from_properties(cls, props: dict[str, str]) -> "Formatter":
        return cls(
            print_timestamp=_true(props.get("print.timestamp")),
            print_partition=_true(props.get("print.partition")),
            print_offset=_true(props.get("print.offset")),
            print_headers=_true(props.get("print.headers")),
            print_key=_true(props.get("print.key")),
            print_value=props.get("print.value", "true").strip().lower() != "false",
            key_separator=props.get("key.separator", "\t"),
            line_separator=props.get("line.separator", "\n"),
            headers_separator=props.get("headers.separator", ","),
            headers_key_separator=props.get("headers.key.separator", ":"),
            null_literal=props.get("null.literal", "null"),
        )

    def _text(self, data: bytes | None) -> str:
        return self.null_literal if data is None else data.decode("utf-8", "replace")

    def format(self, r: ConsumedRecord) -> str:
        parts = []
        if self.print_timestamp:
            parts.append("NO_TIMESTAMP" if r.timestamp < 0 else f"{TIMESTAMP_TYPES.get(r.timestamp_type, 'CreateTime')}:{r.timestamp}")
        if self.print_partition:
            parts.append(f"Partition:{r.partition}")
        if self.print_offset:
            parts.append(f"Offset:{r.offset}")
        if self.print_headers:
            if r.headers:
                parts.append(self.headers_separator.join(
                    f"{name}{self.headers_key_separator}{self._text(value)}" for name, value in r.headers))
            else:
                parts.append("NO_HEADERS")
        if self.print_key:
            parts.append(self._text(r.key))
        if self.print_value:
            parts.append(self._text(r.value))
        return self.key_separator.join(parts) + self.line_separator


def _start_offset(args: argparse.Namespace) -> int:
    if args.offset is None:
        return EARLIEST if args.from_beginning else LATEST
    text = str(args.offset).strip().lower()
    if text == "earliest":
        return EARLIEST
    if text == "latest":
        return LATEST
    try:
        value = int(text)
    except ValueError:
        raise ToolError(f"--offset must be earliest, latest or a non-negative number, not {args.offset!r}") from None
    if value < 0:
        raise ToolError("--offset must not be negative")
    return value


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    props = parse_properties(args.property)
    formatter = Formatter.from_properties(props)
    if args.offset is not None and args.partition is None:
        raise ToolError("--offset needs --partition")
    if args.group and (args.partition is not None or args.offset is not None):
        raise ToolError("--group cannot be combined with --partition or --offset")
    reset = EARLIEST if args.from_beginning else LATEST
    isolation = 1 if args.isolation_level == "read_committed" else 0
    count = 0
    uncommitted: dict[tuple[str, int], int] = {}
    with Cluster(args.bootstrap_server, timeout=args.timeout, client_id=args.client_id) as cluster:
        fetcher = Fetcher(cluster, reset=reset, max_wait_ms=min(500, args.timeout_ms or 500), isolation_level=isolation)
        member: GroupMember | None = None
        try:
            partitions = cluster.partitions(args.topic)
        except KafkaError as exc:
            raise ToolError(f"cannot consume from topic {args.topic}: {exc}") from None
        try:
            if args.group:
                member = GroupMember(cluster, args.group, [args.topic])
                _assign_from_group(member, fetcher, reset)
            elif args.partition is not None:
                if args.partition not in partitions:
                    raise ToolError(f"topic {args.topic} has no partition {args.partition}")
                fetcher.assign({(args.topic, args.partition): _start_offset(args)})
            else:
                fetcher.assign({(args.topic, p): reset for p in partitions})
            last_record = time.monotonic()
            while args.max_messages is None or count < args.max_messages:
                if member is not None and member.heartbeat_due():
                    _commit(member, uncommitted)
                    if not member.heartbeat():
                        _assign_from_group(member, fetcher, reset)
                records = fetcher.poll()
                for r in records:
                    if args.max_messages is not None and count >= args.max_messages:
                        break
                    out.write(formatter.format(r))
                    count += 1
                    uncommitted[(r.topic, r.partition)] = r.offset + 1
                if records:
                    out.flush()
                    last_record = time.monotonic()
                    if member is not None and not _commit(member, uncommitted):
                        _assign_from_group(member, fetcher, reset)
                elif args.timeout_ms is not None and (time.monotonic() - last_record) * 1000 >= args.timeout_ms:
                    break
        except KeyboardInterrupt:
            pass
        except UnsupportedApiError as exc:
            raise ToolError(str(exc)) from None
        except KafkaError as exc:
            print(f"ERROR {exc}", file=err)
            return 1
        finally:
            if member is not None:
                try:
                    _commit(member, uncommitted)
                except (KafkaError, OSError):
                    pass
                member.leave()
    print(f"Processed a total of {count} messages", file=err)
    return 0


def _assign_from_group(member: GroupMember, fetcher: Fetcher, reset: int) -> None:
    assignment = member.join()
    committed = member.committed(assignment) if assignment else {}
    fetcher.assign({tp: committed.get(tp, -1) if committed.get(tp, -1) >= 0 else reset for tp in assignment})


def _commit(member: GroupMember, uncommitted: dict[tuple[str, int], int]) -> bool:
    if not uncommitted:
        return True
    mine = {tp: off for tp, off in uncommitted.items() if tp in member.assignment}
    uncommitted.clear()
    return member.commit(mine)

