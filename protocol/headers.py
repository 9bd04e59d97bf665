"""Request and response headers, and which header version each (API, version) uses."""

from __future__ import annotations

from protocol.compiler import Codec, classes_for, codec_for
from protocol.schema import message

API_VERSIONS_KEY = 18

REQUEST_HEADER = message(
    "RequestHeader",
    kind="header",
    versions="0-2",
    flexible="2+",
    fields="""
request_api_key      int16
request_api_version  int16
correlation_id       int32
client_id            string  1+ nullable=1+ ignorable flexible=none
""",
)

RESPONSE_HEADER = message(
    "ResponseHeader",
    kind="header",
    versions="0-1",
    flexible="1+",
    fields="""
correlation_id  int32
""",
)

RequestHeader = classes_for(REQUEST_HEADER)["RequestHeader"]
ResponseHeader = classes_for(RESPONSE_HEADER)["ResponseHeader"]


def request_header_version(flexible: bool) -> int:
    """Flexible request versions use header v2 (tagged fields), the others v1."""
    return 2 if flexible else 1


def response_header_version(api_key: int, flexible: bool) -> int:
    """Flexible responses use header v1, except ApiVersions, whose response header is always
    v0 so that a client can parse it before it knows which versions the broker speaks."""
    if api_key == API_VERSIONS_KEY:
        return 0
    return 1 if flexible else 0


def request_header_codec(version: int) -> Codec:
    return codec_for(REQUEST_HEADER, version)


def response_header_codec(version: int) -> Codec:
    return codec_for(RESPONSE_HEADER, version)
