"""The command-line definitions of the tools. Only argparse here: a tool's module (and the
codec it needs) is imported when that tool runs, so `pybroker --help` and starting a broker
stay quick."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

TOOLS = ("topics", "produce", "consume", "groups", "health")


def add_connection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bootstrap-server", required=True, metavar="HOST:PORT[,...]",
                   help="brokers to connect to (as in Kafka's tools)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="how long to wait for a broker's answer (default 30)")
    p.add_argument("--client-id", default="pybroker-tools", help="client id sent with each request")


def _topics(sub: Any) -> None:
    p = sub.add_parser("topics", help="create, list, describe, alter and delete topics (as kafka-topics)")
    add_connection_args(p)
    for action in ("create", "list", "describe", "alter", "delete"):
        p.add_argument(f"--{action}", action="store_true", help=f"{action} topics")
    p.add_argument("--topic", help="the topic (a regular expression for --list/--describe/--alter/--delete)")
    p.add_argument("--partitions", type=int, help="number of partitions (create, or grow with --alter)")
    p.add_argument("--replication-factor", type=int, help="replication factor for --create")
    p.add_argument("--config", dest="topic_config", action="append", metavar="KEY=VALUE",
                   help="a topic config for --create or --alter (repeatable)")
    p.add_argument("--delete-config", action="append", metavar="KEY", help="remove a topic config override (--alter)")
    p.add_argument("--if-not-exists", action="store_true", help="with --create, succeed if the topic exists")
    p.add_argument("--if-exists", action="store_true", help="with --alter/--delete, succeed if it does not exist")
    p.add_argument("--exclude-internal", action="store_true", help="leave out internal topics")
    p.add_argument("--topics-with-overrides", action="store_true", help="describe only topics with config overrides")
    p.add_argument("--under-replicated-partitions", action="store_true",
                   help="describe only partitions whose ISR is smaller than their replica set")
    p.add_argument("--unavailable-partitions", action="store_true", help="describe only partitions without a leader")


def _produce(sub: Any) -> None:
    p = sub.add_parser("produce", help="send lines of standard input as records (as kafka-console-producer)")
    add_connection_args(p)
    p.add_argument("--topic", required=True, help="the topic to produce to")
    p.add_argument("--property", action="append", metavar="KEY=VALUE",
                   help="line reader properties: parse.key, key.separator, parse.headers, headers.delimiter, "
                        "headers.separator, headers.key.separator, null.marker, ignore.error")
    p.add_argument("--acks", "--request-required-acks", dest="acks", default="all",
                   help="acknowledgements to wait for: all (-1), 1 or 0 (default all)")
    p.add_argument("--compression-codec", nargs="?", const="gzip", default=None,
                   help="none, gzip (when given without a value), snappy, lz4 or zstd")
    p.add_argument("--batch-size", type=int, default=500, help="most records sent in one request (default 500)")
    p.add_argument("--sync", action="store_true", help="send each line on its own and wait for it")
    p.add_argument("--request-timeout-ms", type=int, default=30_000, help="produce request timeout (default 30000)")


def _consume(sub: Any) -> None:
    p = sub.add_parser("consume", help="print records of a topic (as kafka-console-consumer)")
    add_connection_args(p)
    p.add_argument("--topic", required=True, help="the topic to consume")
    p.add_argument("--from-beginning", action="store_true",
                   help="start at the earliest offset when there is no committed offset (default: the latest)")
    p.add_argument("--partition", type=int, help="consume only this partition")
    p.add_argument("--offset", help="with --partition: earliest, latest or an offset to start at")
    p.add_argument("--group", help="consume as a member of this consumer group, committing offsets")
    p.add_argument("--max-messages", type=int, help="exit after this many records")
    p.add_argument("--timeout-ms", type=int, help="exit when no record arrives for this long")
    p.add_argument("--isolation-level", choices=("read_uncommitted", "read_committed"), default="read_uncommitted")
    p.add_argument("--property", action="append", metavar="KEY=VALUE",
                   help="formatter properties: print.key, print.value, print.offset, print.partition, "
                        "print.timestamp, print.headers, key.separator, line.separator, headers.separator, "
                        "headers.key.separator, null.literal")


def _groups(sub: Any) -> None:
    p = sub.add_parser("groups", help="list, describe, reset offsets of and delete consumer groups "
                                      "(as kafka-consumer-groups)")
    add_connection_args(p)
    p.add_argument("--list", action="store_true", help="list consumer groups")
    p.add_argument("--describe", action="store_true", help="describe groups: offsets, log end offsets, lag, owners")
    p.add_argument("--reset-offsets", action="store_true", help="reset a group's committed offsets")
    p.add_argument("--delete", action="store_true", help="delete groups (they must have no members)")
    p.add_argument("--group", action="append", help="the group (repeatable for --describe and --delete)")
    p.add_argument("--all-groups", action="store_true", help="every group (--describe, --delete)")
    p.add_argument("--members", action="store_true", help="with --describe: list members")
    p.add_argument("--state", action="store_true", help="with --describe or --list: show group states")
    p.add_argument("--topic", action="append", metavar="TOPIC[:P1,P2]", help="topics (and partitions) to reset")
    p.add_argument("--all-topics", action="store_true", help="reset every topic the group has offsets for")
    p.add_argument("--to-earliest", action="store_true", help="reset to the earliest offsets")
    p.add_argument("--to-latest", action="store_true", help="reset to the log end offsets")
    p.add_argument("--to-datetime", metavar="YYYY-MM-DDTHH:mm:SS.sss", help="reset to the first offset at or after a time")
    p.add_argument("--to-offset", type=int, help="reset to this offset (clamped to the partition's range)")
    p.add_argument("--shift-by", type=int, help="move the committed offsets by this many (negative: back)")
    p.add_argument("--execute", action="store_true", help="commit the new offsets")
    p.add_argument("--dry-run", action="store_true", help="only show the new offsets (the default)")


def _health(sub: Any) -> None:
    p = sub.add_parser("health", help="exit 0 when the broker answers ApiVersions and Metadata")
    p.add_argument("--bootstrap-server", required=True, metavar="HOST:PORT[,...]", help="brokers to check")
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                   help="how long each check may take (default 5)")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="keep retrying for this long before reporting failure (default: no retry)")
    p.add_argument("--all", action="store_true", help="require every listed server to answer (default: any one)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when healthy")


def add_tool_parsers(sub: Any) -> None:
    """Add every tool as a subcommand of the `pybroker` parser."""
    for name in TOOLS:
        globals()[f"_{name}"](sub)


def run_tool(args: argparse.Namespace) -> int:
    """Run the tool args.command names; failures print one line and exit non-zero."""
    from pybroker.tools.common import ToolError

    module = importlib.import_module(f"pybroker.tools.{args.command}")
    try:
        return module.run(args)
    except ToolError as exc:
        print(exc, file=sys.stderr)
        return 1
    except (ConnectionError, TimeoutError) as exc:
        print(f"pybroker {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
