"""The transaction coordinator: transactional ids and their transactions as the sans-I/O state
machine of each `__transaction_state` partition, and the writer of transaction markers.

Exports load on first use, so that starting a broker does not compile the record schemas.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TransactionCoordinator": "coordinator",
    "produce_verification_error": "coordinator",
    "MarkerEntry": "markers",
    "MarkerWriter": "markers",
    "write_markers_locally": "markers",
    "TxnRecord": "records",
    "TxnState": "records",
    "NEED_PRODUCER_ID": "shard",
    "EndTxnResult": "shard",
    "InitResult": "shard",
    "TransactionCoordinatorShard": "shard",
    "TxnConfig": "shard",
    "TxnDescription": "shard",
    "TxnMetadata": "shard",
    "WriteMarkers": "shard",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
