"""Kafka's error codes, and the exceptions the codec raises for bad input."""

from __future__ import annotations


class KafkaProtocolError(Exception):
    """Base of every exception the protocol package raises."""


class DecodeError(KafkaProtocolError):
    """Bytes that do not decode: truncated, garbage, or sizes that do not fit the input."""


class EncodeError(KafkaProtocolError):
    """A message that cannot be encoded at the requested version."""


class UnsupportedVersionError(KafkaProtocolError):
    """An API key or version that has no schema."""


class CorruptRecordError(DecodeError):
    """A record batch that fails validation (magic, length, CRC, counts)."""
