"""The breaker's way to its state: a DynamoDB client, the circuit's store and its read copies, each made
on first use (a container that never calls pays for none of them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ._copies import ReadCopies
from ._store import DynamoStore, default_client

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient


class StoreAccess:
    """One container's client, store and read copies for one circuit.

    Args:
        table_name: The state table.
        circuit_id: The circuit.
        read_copies: The copies this container reads (1: none; a transition may still write the circuit's).
        report: Receives each failed copy request.
        client: A boto3 DynamoDB client. Default: one made on first use with ``boto_config``.
        boto_config: botocore ``Config`` for that client (``default_client``'s short timeouts otherwise).
    """

    def __init__(
        self,
        table_name: str,
        circuit_id: str,
        read_copies: int,
        report: Callable[[str, int | None, Exception], None],
        client: DynamoDBClient | None = None,
        boto_config: Config | None = None,
    ) -> None:
        self.table_name = table_name
        self.circuit_id = circuit_id
        self.client = client
        self._read_copies = read_copies
        self._report = report
        self._boto_config = boto_config
        self._store: DynamoStore | None = None
        self.copies_made: ReadCopies | None = None

    def store(self) -> DynamoStore:
        if self._store is None:
            if self.client is None:
                self.client = default_client(self._boto_config)
            self._store = DynamoStore(self.client, self.table_name, self.circuit_id)
        return self._store

    def copies(self) -> ReadCopies:
        if self.copies_made is None:
            self.copies_made = ReadCopies(self.store(), self._read_copies, self._report)
        return self.copies_made
