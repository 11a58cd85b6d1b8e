"""What the model's collaborators share: the app, its traffic, and the charges and lists they add to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..checks._model import Resource, Templates
from ._traffic import KB_PER_GB, Traffic
from ._usage import Usage

#: Months of logs kept where nothing expires them (the model's horizon).
UNEXPIRED_MONTHS = 12.0


@dataclass(frozen=True)
class Charge:
    """A monthly quantity of one meter, caused by one resource."""

    resource: Resource
    meter: str
    quantity: float
    item: str


@dataclass
class Priced:
    charges: list[Charge] = field(default_factory=list)
    free: list[tuple[Resource, str]] = field(default_factory=list)
    not_priced: list[tuple[Resource, str]] = field(default_factory=list)


@dataclass
class Ledger:
    """The app and its month of traffic, the result so far, and what one resource hands another: the log
    bytes sent to each log group and the idempotency records kept in each table."""

    templates: Templates
    usage: Usage
    traffic: Traffic
    result: Priced = field(default_factory=Priced)
    log_kb: dict[Resource, float] = field(default_factory=lambda: defaultdict(float))
    idempotency_records: dict[Resource, float] = field(default_factory=lambda: defaultdict(float))

    def charge(self, resource: Resource, meter: str, quantity: float, item: str) -> None:
        self.result.charges.append(Charge(resource, meter, quantity, item))

    def free(self, listed: tuple[Resource, str]) -> None:
        """``(resource, why)``: it costs nothing by itself."""
        self.result.free.append(listed)

    def not_priced(self, listed: tuple[Resource, str]) -> None:
        """``(resource, why)``: AWS bills it, and the model does not price it."""
        self.result.not_priced.append(listed)

    def send_logs(self, source: Resource, logging_config: Any, kb: float) -> None:
        """``kb`` of logs from ``source``: to the log group its logging configuration names (priced there),
        else ingested into its default log group."""
        groups = self.templates.references(source.stack, logging_config, "AWS::Logs::LogGroup")
        if groups:
            self.log_kb[groups[0]] += kb
        elif kb:
            self.charge(source, "cloudwatch.logs_ingested", kb / KB_PER_GB, "logs (default log group)")


class Collaborator:
    """A part of the model that prices the types of one concern, on the ledger it shares with the others."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.templates, self.usage, self.traffic = ledger.templates, ledger.usage, ledger.traffic

    def handlers(self) -> dict[str, Callable[[Resource], None]]:
        """Resource type -> the method that prices it."""
        raise NotImplementedError
