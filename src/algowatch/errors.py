"""Exceptions raised by algowatch.

Every exception derives from :class:`AlgowatchError` and also from the builtin
that fits, so callers may catch either::

    AlgowatchError
     +-- InvalidEventError(ValueError)      an event failed validation (all field errors at once)
     +-- ConfigError(ValueError)            a settings file or variable is wrong (names the key)
     +-- DataFileError(ValueError)          a data file cannot be read or holds no usable column
     +-- MissingDependencyError(ImportError) an optional extra is not installed
     +-- JournalError(RuntimeError)         the event journal cannot be opened or written
 |    +-- JournalUnavailableError       its store is unreachable (also a ServiceUnavailableError)
     +-- AuditError(RuntimeError)           the audit trail cannot be written or verified
     |    +-- AuditCorruptionError          damage found before the last checkpoint
     |    +-- AuditWriterFailedError        the writer failed closed (a failed fsync)
     +-- ServiceUnavailableError(RuntimeError) a dependency is down or the journal is behind
     +-- DataFolderInUseError(RuntimeError) another live process holds the data folder
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AlgowatchError",
    "AuditCorruptionError",
    "AuditError",
    "AuditWriterFailedError",
    "ConfigError",
    "DataFileError",
    "DataFolderInUseError",
    "FieldError",
    "InvalidEventError",
    "JournalError",
    "JournalUnavailableError",
    "MissingDependencyError",
    "ServiceUnavailableError",
]


class AlgowatchError(Exception):
    """Base class of every error algowatch raises."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field of one event.

    Attributes
    ----------
    field
        Dotted name of the field, prefixed by the event type when known
        (``order_filled.quantity``).
    message
        What was expected and what was received, e.g.
        ``must be > 0, received -5``.
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field} {self.message}"


class InvalidEventError(AlgowatchError, ValueError):
    """An event failed validation; :attr:`errors` lists every invalid field.

    Examples
    --------
    >>> from algowatch.events import decode_event
    >>> decode_event(b'{"type": "heartbeat"}')
    Traceback (most recent call last):
    ...
    algowatch.errors.InvalidEventError: heartbeat.ts is required; heartbeat.component is required
    """

    def __init__(
        self, errors: Sequence[FieldError], *, index: int | None = None, line: int | None = None
    ) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        self.index = index
        self.line = line
        prefix = (
            f"line {line}: "
            if line is not None
            else (f"event {index}: " if index is not None else "")
        )
        super().__init__(prefix + "; ".join(str(e) for e in self.errors))


class ConfigError(AlgowatchError, ValueError):
    """A configuration key or value is invalid; the message names the key."""


class DataFileError(AlgowatchError, ValueError):
    """A data file cannot be read, or holds no usable column."""


class MissingDependencyError(AlgowatchError, ImportError):
    """An optional extra is needed; the message names the extra to install."""


class JournalError(AlgowatchError, RuntimeError):
    """The event journal cannot be opened or written."""


class AuditError(AlgowatchError, RuntimeError):
    """The audit trail cannot be written or verified."""


class AuditCorruptionError(AuditError):
    """Damage was found before the last checkpoint; the writer refuses to start."""


class AuditWriterFailedError(AuditError):
    """The audit writer failed closed after a failed fsync and refuses appends."""


class ServiceUnavailableError(AlgowatchError, RuntimeError):
    """A dependency is unavailable or the journal is behind; retry later."""


class JournalUnavailableError(JournalError, ServiceUnavailableError):
    """The journal's store is unreachable (connection lost, server down); retry later.

    Nothing of the failed call is acknowledged. The journal reconnects by itself with
    capped exponential backoff; a retry of the same events is safe (see docs/journal.md).

    .. versionadded:: 0.2.0
    """


class DataFolderInUseError(AlgowatchError, RuntimeError):
    """Another live process holds the data folder (its lock file, ``algowatch.lock``)."""
