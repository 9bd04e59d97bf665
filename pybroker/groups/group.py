"""What every group has in common: its type, the error a group operation fails with, and the
checks offset operations ask of a group (classic or consumer)."""

from __future__ import annotations

from enum import Enum
from typing import Callable, Protocol

from protocol.errors import ErrorCode


class GroupError(Exception):
    """An operation on a group fails with Kafka's error `code` (and an optional message)."""

    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        super().__init__(message or code.name)
        self.code = code
        self.message = message


class GroupType(Enum):
    """Kafka's group types, as ListGroups reports and filters them."""

    CLASSIC = "classic"
    CONSUMER = "consumer"
    SHARE = "share"
    STREAMS = "streams"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, name: str) -> "GroupType":
        try:
            return cls(name.strip().lower())
        except ValueError:
            return cls.UNKNOWN


CONSUMER_PROTOCOL_TYPE = "consumer"


class Group(Protocol):
    """The part of a group that offset commits, fetches, deletes and expiry rely on."""

    group_id: str

    @property
    def type(self) -> GroupType: ...

    def is_empty(self) -> bool: ...

    def state_name(self) -> str: ...

    def validate_offset_commit(self, member_id: str, instance_id: str | None, generation: int,
                               transactional: bool, version: int) -> None: ...

    def validate_offset_fetch(self, member_id: str | None, member_epoch: int) -> None: ...

    def validate_offset_delete(self) -> None: ...

    def validate_delete(self) -> None: ...

    def is_subscribed_to_topic(self, topic: str) -> bool: ...

    def offset_expiration_base(self) -> Callable[[int], int] | None:
        """None when offsets must not expire now; else the function from an offset's commit
        timestamp to the time its retention counts from."""
        ...
