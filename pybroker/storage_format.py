"""Formatting log directories as `kafka-storage format` does: meta.properties in each one.

A directory is formatted when it holds a meta.properties naming the node id and cluster id; a
broker refuses to start on directories formatted for another node or cluster.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from pathlib import Path

META_PROPERTIES = "meta.properties"


class FormatError(Exception):
    """Directories formatted inconsistently, or not at all when formatting is required."""


def random_uuid() -> str:
    """A Kafka-style uuid string: url-safe base64 of 16 random bytes, without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def read_meta(directory: Path) -> dict[str, str] | None:
    path = Path(directory) / META_PROPERTIES
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    props = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        props[key.strip()] = value.strip()
    return props


def write_meta(directory: Path, node_id: int, cluster_id: str, directory_id: str | None = None) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    text = (
        "#\n"
        f"#{time.strftime('%a %b %d %H:%M:%S %Z %Y')}\n"
        f"node.id={node_id}\n"
        f"directory.id={directory_id or random_uuid()}\n"
        "version=1\n"
        f"cluster.id={cluster_id}\n"
    )
    tmp = directory / (META_PROPERTIES + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, directory / META_PROPERTIES)


def ensure_formatted(
    directories: list[Path], node_id: int, *, cluster_id: str | None = None, create: bool = True
) -> str:
    """Check (and with `create`, format) every directory; return the cluster id.

    Directories already formatted must agree on the cluster id and carry this node's id.
    Unformatted ones are formatted with the cluster id of the others, or a new one.
    """
    found: dict[Path, dict[str, str]] = {}
    for d in directories:
        meta = read_meta(d)
        if meta is not None:
            found[d] = meta
    ids = {m.get("cluster.id") for m in found.values()}
    if len(ids) > 1:
        raise FormatError(f"log directories disagree on the cluster id: {sorted(i or '' for i in ids)}")
    existing = next(iter(ids)) if ids else None
    if cluster_id is not None and existing is not None and cluster_id != existing:
        raise FormatError(f"log directories are formatted for cluster {existing}, not {cluster_id}")
    for d, meta in found.items():
        if meta.get("node.id") not in (None, str(node_id)):
            raise FormatError(f"{d} is formatted for node {meta.get('node.id')}, but node.id is {node_id}")
    cid = existing or cluster_id or random_uuid()
    for d in directories:
        if d not in found:
            if not create:
                raise FormatError(f"{d} is not formatted; run `pybroker format`")
            write_meta(d, node_id, cid)
    return cid
