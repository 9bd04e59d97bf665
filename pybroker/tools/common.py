"""What every tool shares: the error a tool reports in one line before exiting non-zero."""

from __future__ import annotations


class ToolError(Exception):
    """A failure a tool reports in one line before exiting non-zero."""
