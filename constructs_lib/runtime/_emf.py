"""One JSON line that is both a structured log and a CloudWatch Embedded Metric Format record."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from typing import Any


def emf_line(
    *,
    namespace: str,
    circuit_id: str,
    table: str,
    event: str,
    metrics: Mapping[str, tuple[float, str]],
    now: float,
    level: str = "INFO",
    **fields: Any,
) -> str:
    """The record for ``event``: each metric ``name -> (value, unit)`` by ``CircuitId`` and ``StateTable``.

    The state table tells apart two breakers (a dev and a prod one) that use the same circuit id and
    namespace in one account and region: they hold different state, so their metrics must not add up.
    """
    record = {
        "_aws": {
            "Timestamp": int(now * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [["CircuitId", "StateTable"]],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()],
                }
            ],
        },
        "CircuitId": circuit_id,
        "StateTable": table,
        **{name: value for name, (value, _) in metrics.items()},
        "level": level,
        "event": event,
        **fields,
    }
    return json.dumps(record, default=str)


def print_line(line: str) -> None:
    """Write one line to standard output, where Lambda sends it to CloudWatch Logs."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class EmfWriter:
    """Writes the breaker's and the governor's records: one namespace and state table, one output.

    ``emit`` receives each line. Default: standard output, where Lambda sends it to CloudWatch Logs.
    """

    def __init__(self, namespace: str, table: str, emit: Callable[[str], None] | None = None) -> None:
        self.namespace = namespace
        self.table = table
        self.emit = emit or print_line

    def log(self, event: str, circuit_id: str, now: float, *, level: str = "INFO", **fields: Any) -> None:
        """One structured log line that is no metric (``event`` and ``fields``, by ``circuit_id``)."""
        record = {
            "timestamp": int(now * 1000),
            "CircuitId": circuit_id,
            "StateTable": self.table,
            "level": level,
            "event": event,
            **fields,
        }
        self.emit(json.dumps(record, default=str))

    def write(
        self,
        event: str,
        circuit_id: str,
        metrics: Mapping[str, tuple[float, str]],
        now: float,
        *,
        level: str = "INFO",
        **fields: Any,
    ) -> None:
        """One structured log line that is also an EMF record of ``metrics`` for ``circuit_id``."""
        self.emit(
            emf_line(
                namespace=self.namespace,
                circuit_id=circuit_id,
                table=self.table,
                event=event,
                metrics=metrics,
                now=now,
                level=level,
                **fields,
            )
        )
