"""The durable election state and Kafka's `quorum-state` file that holds it.

Kafka writes one line of JSON, replaced atomically (temp file, fsync, rename). Version 0
(kraft.version 0, static voters from controller.quorum.voters) looks like
    {"clusterId":"","leaderId":1,"leaderEpoch":2,"votedId":-1,"appliedOffset":0,
     "currentVoters":[{"voterId":1}],"data_version":0}
and version 1 (kraft.version 1, dynamic voters) drops clusterId, appliedOffset and
currentVoters and adds votedDirectoryId. Both are read; version 0 is written.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from raft.errors import CorruptQuorumStateError

FILE_NAME = "quorum-state"
NO_ID = -1


@dataclass(frozen=True, slots=True)
class ElectionState:
    """What a replica must remember across restarts: its epoch, the leader it knows of in
    that epoch, and whom it voted for in that epoch."""

    epoch: int
    leader_id: int | None = None
    voted_id: int | None = None
    voters: frozenset[int] = field(default_factory=frozenset)
    voted_directory_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if self.leader_id is not None and self.voted_id is not None and self.voted_id != self.leader_id:
            raise ValueError("a replica cannot know a leader and have voted for someone else")

    @property
    def has_leader(self) -> bool:
        return self.leader_id is not None

    def is_leader(self, node_id: int) -> bool:
        return self.leader_id == node_id

    def to_json(self, version: int = 0) -> dict:
        data: dict = {}
        if version == 0:
            data["clusterId"] = ""
        data["leaderId"] = NO_ID if self.leader_id is None else self.leader_id
        data["leaderEpoch"] = self.epoch
        data["votedId"] = NO_ID if self.voted_id is None else self.voted_id
        if version == 0:
            data["appliedOffset"] = 0
            data["currentVoters"] = [{"voterId": v} for v in sorted(self.voters)]
        else:
            vdid = self.voted_directory_id or uuid.UUID(int=0)
            data["votedDirectoryId"] = base64.urlsafe_b64encode(vdid.bytes).decode().rstrip("=")
        data["data_version"] = version
        return data

    @classmethod
    def from_json(cls, data: dict) -> ElectionState:
        try:
            version = int(data["data_version"])
            if version not in (0, 1):
                raise CorruptQuorumStateError(f"unsupported quorum-state data_version {version}")
            leader = int(data.get("leaderId", NO_ID))
            voted = int(data.get("votedId", NO_ID))
            voters = frozenset(int(v["voterId"]) for v in (data.get("currentVoters") or ()))
            vdid = None
            raw = data.get("votedDirectoryId")
            if raw:
                vdid = uuid.UUID(bytes=base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
                if vdid.int == 0:
                    vdid = None
            return cls(
                epoch=int(data.get("leaderEpoch", NO_ID)),
                leader_id=None if leader == NO_ID else leader,
                voted_id=None if voted == NO_ID or leader != NO_ID else voted,
                voters=voters,
                voted_directory_id=vdid,
            )
        except CorruptQuorumStateError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptQuorumStateError(f"malformed quorum state {data!r}: {exc}") from None


class QuorumStateStore:
    """The `quorum-state` file of one metadata log directory."""

    def __init__(self, directory: Path | str, *, fsync: bool = True) -> None:
        self.path = Path(directory) / FILE_NAME
        self.fsync = fsync

    def read(self) -> ElectionState | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        line = text.split("\n", 1)[0]
        if not line.strip():
            raise CorruptQuorumStateError(f"{self.path} is empty")
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise CorruptQuorumStateError(f"{self.path} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise CorruptQuorumStateError(f"{self.path} does not hold a JSON object")
        return ElectionState.from_json(data)

    def write(self, state: ElectionState, version: int = 0) -> None:
        line = json.dumps(state.to_json(version), separators=(",", ":"))
        tmp = self.path.with_name(FILE_NAME + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            if self.fsync:
                os.fsync(f.fileno())
        os.replace(tmp, self.path)
        if self.fsync:
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def clear(self) -> None:
        for p in (self.path, self.path.with_name(FILE_NAME + ".tmp")):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
