"""`pybroker produce`: the console producer. One record per input line, read as
kafka-console-producer's LineMessageReader reads it (keys, headers, null markers)."""

from __future__ import annotations

import argparse
import io
import select
import sys
from dataclasses import dataclass
from typing import Any, Iterable, TextIO

from pybroker.tools.client import Cluster, KafkaError
from pybroker.tools.common import ToolError
from pybroker.tools.producer import Producer, ProducerRecord, acks_value, compression_codec


def parse_properties(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep:
            raise ToolError(f"invalid property {item!r}: expected key=value")
        out[key.strip()] = _unescape(value)
    return out


def _unescape(value: str) -> str:
    """Let separators be written as \\t, \\n (a tab is awkward on a command line)."""
    return value.replace("\\t", "\t").replace("\\n", "\n")


def _true(value: str | None) -> bool:
    return str(value).strip().lower() == "true"


@dataclass(slots=True)
class LineReader:
    """Turns a line into a record, with Kafka's LineMessageReader properties."""

    parse_key: bool = False
    key_separator: str = "\t"
    parse_headers: bool = False
    headers_delimiter: str = "\t"
    headers_separator: str = ","
    headers_key_separator: str = ":"
    null_marker: str | None = None
    ignore_error: bool = False

    @classmethod
    def from_properties(cls, props: dict[str, str]) -> "LineReader":
        return cls(
            parse_key=_true(props.get("parse.key")),
            key_separator=props.get("key.separator", "\t"),
            parse_headers=_true(props.get("parse.headers")),
            headers_delimiter=props.get("headers.delimiter", "\t"),
            headers_separator=props.get("headers.separator", ","),
            headers_key_separator=props.get("headers.key.separator", ":"),
            null_marker=props.get("null.marker"),
            ignore_error=_true(props.get("ignore.error")),
        )

    def _null(self, text: str) -> bytes | None:
        return None if self.null_marker is not None and text == self.null_marker else text.encode()

    def parse(self, line: str) -> ProducerRecord:
        rest = line
        headers: list[tuple[str, bytes | None]] = []
        if self.parse_headers:
            head, sep, rest = rest.partition(self.headers_delimiter)
            if not sep:
                if not self.ignore_error:
                    raise ToolError(f"no headers delimiter found in line {line!r}")
                head, rest = "", line
            if head and head != self.null_marker:
                for item in head.split(self.headers_separator):
                    name, sep, value = item.partition(self.headers_key_separator)
                    if name == self.null_marker:
                        raise ToolError(f"header key cannot match the null marker in line {line!r}")
                    headers.append((name, self._null(value) if sep else None))
        key = None
        if self.parse_key:
            k, sep, value = rest.partition(self.key_separator)
            if sep:
                key, rest = self._null(k), value
            elif not self.ignore_error:
                raise ToolError(f"no key separator found in line {line!r}")
        return ProducerRecord(value=self._null(rest), key=key, headers=headers)


def _nothing_waiting(stream: Any) -> bool:
    """True when no more input is ready right now (time to send what has been read)."""
    try:
        ready, _, _ = select.select([stream], [], [], 0)
    except (ValueError, OSError, TypeError, AttributeError, io.UnsupportedOperation):
        return False
    return not ready


def produce_lines(producer: Producer, lines: Iterable[str], reader: LineReader, *, batch_size: int = 500,
                  sync: bool = False, stream: Any = None, err: TextIO | None = None) -> tuple[int, int]:
    """Send each line as a record; returns (records acknowledged, records failed)."""
    err = err if err is not None else sys.stderr
    pending: list[ProducerRecord] = []
    ok = failed = 0

    def flush() -> None:
        nonlocal ok, failed
        if not pending:
            return
        for result in producer.send(pending):
            if result.error is None:
                ok += result.count
            else:
                failed += result.count
                print(f"ERROR Error when sending {result.count} message(s) to topic {producer.topic} "
                      f"partition {result.partition}: {result.error}", file=err)
        pending.clear()

    for line in lines:
        line = line.rstrip("\n")
        if line.endswith("\r"):
            line = line[:-1]
        pending.append(reader.parse(line))
        if sync or len(pending) >= batch_size or (stream is not None and _nothing_waiting(stream)):
            flush()
    flush()
    return ok, failed


def run(args: argparse.Namespace, stdin: TextIO | None = None, err: TextIO | None = None) -> int:
    err = err if err is not None else sys.stderr
    stdin = stdin if stdin is not None else sys.stdin
    props = parse_properties(args.property)
    reader = LineReader.from_properties(props)
    try:
        acks = acks_value(args.acks)
        compression = compression_codec(args.compression_codec)
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    with Cluster(args.bootstrap_server, timeout=args.timeout, client_id=args.client_id) as cluster:
        try:
            cluster.topic(args.topic)
        except KafkaError as exc:
            raise ToolError(f"cannot produce to topic {args.topic}: {exc}") from None
        producer = Producer(cluster, args.topic, acks=acks, compression=compression,
                            request_timeout_ms=args.request_timeout_ms)
        _, failed = produce_lines(producer, stdin, reader, batch_size=args.batch_size, sync=args.sync,
                                  stream=stdin, err=err)
    return 1 if failed else 0

