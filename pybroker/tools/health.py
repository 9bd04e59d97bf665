"""`pybroker health`: exit 0 when a broker answers ApiVersions and Metadata, 1 otherwise.
Meant for scripts and readiness probes."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from protocol import messages as m
from pybroker.tools.client import BrokerConnection, KafkaError, parse_bootstrap
from pybroker.tools.protocol import check


def check_broker(host: str, port: int, timeout: float) -> str:
    """One line about a healthy broker; raises on any failure."""
    with BrokerConnection(host, port, timeout=timeout, client_id="pybroker-health") as conn:
        response = conn.request(3, m.MetadataRequest(topics=[], allow_auto_topic_creation=False))
        if getattr(response, "error_code", 0):
            check(response.error_code, "Metadata")
        if not response.brokers:
            raise KafkaError(8, "Metadata lists no live broker")
        return (f"{host}:{port} is up: cluster {response.cluster_id}, {len(response.brokers)} broker(s), "
                f"controller {response.controller_id}")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    try:
        servers = parse_bootstrap(args.bootstrap_server)
    except ValueError as exc:
        print(f"unhealthy: {exc}", file=err)
        return 2
    deadline = time.monotonic() + args.wait
    while True:
        failures = []
        for host, port in servers:
            try:
                line = check_broker(host, port, args.timeout)
            except (OSError, TimeoutError, KafkaError) as exc:
                failures.append(f"{host}:{port}: {exc}")
                continue
            if not args.quiet:
                print(line, file=out)
            if not args.all:
                return 0
        if not failures:
            return 0
        if time.monotonic() >= deadline:
            for f in failures:
                print(f"unhealthy: {f}", file=err)
            return 1
        time.sleep(min(0.2, max(deadline - time.monotonic(), 0)))

