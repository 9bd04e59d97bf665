"""The `pybroker` command line: run a broker, format storage, and tools."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from pybroker import __version__

log = logging.getLogger("pybroker")

TOOL_COMMANDS = ("topics", "produce", "consume", "groups", "health")


def _add_config_args(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    # A subcommand's copies must not reset what was given before the subcommand name.
    keep = None if top else argparse.SUPPRESS
    p.add_argument("-c", "--config", metavar="FILE", default=keep, help="a Kafka server.properties file")
    p.add_argument(
        "--override", metavar="KEY=VALUE", action="append", default=[] if top else argparse.SUPPRESS,
        help="set a config, overriding the properties file (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pybroker",
        description="A Kafka-compatible broker written in Python. With no command, runs a broker: "
        "one node on localhost:9092 with data under ./pybroker-data unless configured otherwise.",
    )
    parser.add_argument("--version", action="version", version=f"pybroker {__version__}")
    _add_config_args(parser, top=True)
    parser.add_argument("--log-level", default="INFO", help="logging level (DEBUG, INFO, WARNING, ERROR)")
    parser.add_argument("--request-log", action="store_true",
                        help="log every request and its decoded body (the pybroker.request logger at DEBUG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a broker (the default)")
    _add_config_args(run)

    fmt = sub.add_parser("format", help="format the log directories, as kafka-storage format does")
    _add_config_args(fmt)
    fmt.add_argument("-t", "--cluster-id", help="the cluster id (default: a new random one)")
    fmt.add_argument("-g", "--ignore-formatted", action="store_true",
                     help="succeed when the directories are already formatted")
    fmt.add_argument("-f", "--feature", metavar="NAME=LEVEL", action="append", default=[],
                     help="finalize a feature level in the new cluster, e.g. transaction.version=2 "
                     "(repeatable)")

    sub.add_parser("random-uuid", help="print a new cluster id")

    from pybroker.tools.commands import add_tool_parsers

    add_tool_parsers(sub)
    return parser


def load_config(args: argparse.Namespace) -> Any:
    from pybroker.config import BrokerConfig, ConfigError, load_properties, parse_override

    try:
        properties = load_properties(args.config) if args.config else {}
        overrides = dict(parse_override(o) for o in args.override)
        return BrokerConfig.from_sources(properties, overrides)
    except ConfigError as exc:
        raise SystemExit(f"pybroker: {exc}")
    except OSError as exc:
        raise SystemExit(f"pybroker: cannot read {args.config}: {exc}")


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="[%(asctime)s] %(levelname)s %(message)s (%(name)s)",
        stream=sys.stderr,
    )


def run_broker(config: Any) -> int:
    # Imported here: the tools and --help do not need an event loop.
    import asyncio
    import signal

    from pybroker.broker import Broker

    async def main() -> None:
        broker = Broker(config)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await broker.start()
        except BaseException:
            await broker.stop()
            raise
        for name, bound in broker.listeners.items():
            print(f"pybroker listening on {name}://{bound.host or '0.0.0.0'}:{bound.port}", flush=True)
        await stop.wait()
        log.info("shutting down")
        await broker.stop()

    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        runner.run(main())
    return 0


def parse_feature_levels(specs: list[str]) -> dict[str, int]:
    """`NAME=LEVEL` arguments of `format --feature`; ValueError with Kafka's messages."""
    levels: dict[str, int] = {}
    for spec in specs:
        name, sep, level = spec.partition("=")
        if not sep:
            raise ValueError(f"Can't parse feature=level string {spec}: equals sign not found.")
        name, level = name.strip(), level.strip()
        try:
            value = int(level)
            if not -32768 <= value <= 32767:
                raise ValueError(level)
        except ValueError:
            raise ValueError(f"Can't parse feature=level string {spec}: unable to parse {level} as a short.") from None
        levels[name] = value
    return levels


def format_storage(args: argparse.Namespace, config: Any) -> int:
    from pybroker.metadata.bootstrap import write_bootstrap
    from pybroker.metadata.features import format_levels
    from pybroker.storage_format import FormatError, ensure_formatted, read_meta

    try:
        levels = format_levels(parse_feature_levels(args.feature))
    except ValueError as exc:
        print(f"pybroker: {exc}", file=sys.stderr)
        return 1
    dirs = list(dict.fromkeys([*config.log_dirs, config.metadata_log_dir]))
    if not args.ignore_formatted and any(read_meta(d) is not None for d in dirs):
        print("pybroker: log directories are already formatted; use --ignore-formatted to accept that",
              file=sys.stderr)
        return 1
    metadata_was_formatted = read_meta(config.metadata_log_dir) is not None
    try:
        cluster_id = ensure_formatted(dirs, config.node_id, cluster_id=args.cluster_id)
    except FormatError as exc:
        print(f"pybroker: {exc}", file=sys.stderr)
        return 1
    if not metadata_was_formatted:
        # The records the first controller writes into the empty metadata log (Kafka's
        # bootstrap.checkpoint); a cluster already formatted keeps what it has.
        write_bootstrap(config.metadata_log_dir, levels)
        print("Bootstrap features: " + ", ".join(f"{n}={v}" for n, v in sorted(levels.items())))
    for d in dirs:
        print(f"Formatted {d} with cluster id {cluster_id}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    if args.request_log:
        logging.getLogger("pybroker.request").setLevel(logging.DEBUG)
    command = args.command or "run"
    if command in TOOL_COMMANDS:
        from pybroker.tools.commands import run_tool

        return run_tool(args)
    if command == "random-uuid":
        from pybroker.storage_format import random_uuid

        print(random_uuid())
        return 0
    config = load_config(args)
    if command == "format":
        return format_storage(args, config)
    return run_broker(config)


if __name__ == "__main__":
    raise SystemExit(main())
