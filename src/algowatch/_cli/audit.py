"""``algowatch audit``: verify, export and append to an audit directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson

from algowatch.audit import (
    AuditWriter,
    export_json,
    export_text,
    load_public_key,
    load_signing_key,
    verify,
)
from algowatch.audit.verify import EXIT_USAGE
from algowatch.errors import AuditError

__all__ = ["audit"]

_EXIT_IO = 74  # EX_IOERR: the directory or a key could not be read


class _ExitCode(click.ClickException):
    # carries a documented exit code through ``algowatch.cli.main`` (click returns, rather
    # than raises, a ``ctx.exit`` code when not in standalone mode); the report is printed already

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        # click types exit_code as a ClassVar; a per-instance value is what is needed here
        self.exit_code = code  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        if self.message:
            click.echo(f"Error: {self.message}", err=True)


def _exit(code: int, message: str = "") -> None:
    if code:
        raise _ExitCode(code, message)


_dir = click.argument("directory", type=click.Path(file_okay=False, path_type=Path, exists=False))
_hmac = click.option(
    "--hmac-key-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="HMAC key of a keyed chain.",
)


@click.group("audit")
def audit() -> None:
    """Verify, export and append to the audit trail."""


@audit.command("verify")
@_dir
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Pin the Ed25519 public key of the checkpoints (PEM or 32 raw bytes).",
)
@click.option(
    "--anchor",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Checkpoints kept outside the host, to detect truncation and rewrites.",
)
@click.option("--instance-id", default=None, help="Expected instance id (default: from the trail).")
@_hmac
def verify_command(  # noqa: PLR0917 - click passes options as arguments
    directory: Path,
    as_json: bool,
    public_key: Path | None,
    anchor: Path | None,
    instance_id: str | None,
    hmac_key_file: Path | None,
) -> None:
    """Verify DIRECTORY; exit 0 ok, 1 corruption, 2 truncated/altered, 3 torn tail, 4 checkpoint."""
    try:
        report = verify(
            directory,
            public_key=load_public_key(public_key) if public_key else None,
            hmac_key=hmac_key_file.read_bytes() if hmac_key_file else None,
            anchor=anchor,
            instance_id=instance_id,
        )
    except (OSError, AuditError) as exc:
        _exit(_EXIT_IO, str(exc))
        return
    if as_json:
        click.echo(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(report.to_text(), nl=False)
    _exit(report.exit_code)


@audit.command("export")
@_dir
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Human-readable listing or JSON lines.",
)
def export_command(directory: Path, fmt: str) -> None:
    """Print every record of DIRECTORY, corrections shown with their originals."""
    if not directory.is_dir():
        _exit(EXIT_USAGE, f"{str(directory)!r} is not a directory")
    text = export_text(directory) if fmt == "text" else export_json(directory)
    click.echo(text, nl=False)


@audit.command("append")
@_dir
@click.option(
    "--durability",
    type=click.Choice(["sync", "group", "async"]),
    default="sync",
    show_default=True,
)
@click.option("--instance-id", default="default", show_default=True)
@click.option(
    "--signing-key-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Ed25519 key for checkpoints.",
)
@_hmac
def append_command(
    directory: Path,
    durability: str,
    instance_id: str,
    signing_key_file: Path | None,
    hmac_key_file: Path | None,
) -> None:
    """Append JSON records read one per line from stdin; print each seq once durable.

    Each line is an object with ``kind`` (decision, override, kill_switch,
    limit_change, clock_sync or correction) and its fields; a correction needs
    ``supersedes``, ``reason`` and ``by``.
    """
    writer = AuditWriter(
        directory,
        durability="sync"
        if durability == "sync"
        else ("group" if durability == "group" else "async"),
        instance_id=instance_id,
        hmac_key=hmac_key_file.read_bytes() if hmac_key_file else None,
        signing_key=load_signing_key(signing_key_file) if signing_key_file else None,
        state_providers={},
    )
    try:
        _append_stream(writer, sys.stdin.buffer)
    finally:
        writer.close()


def _append_stream(writer: AuditWriter, source: Any) -> None:
    # Whatever has arrived is appended as one batch (one fsync or group commit for all of
    # it), so a pipe of many records is fast, and a line on its own is acknowledged at once.
    number = 0
    rest = b""
    while True:
        chunk: bytes = source.read1(1 << 16)
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop() if chunk else b""
        batch: list[tuple[int, bytes]] = []
        for line in lines:
            number += 1
            if line.strip():
                batch.append((number, line))
        _append_batch(writer, batch)
        if not chunk:
            return


def _append_batch(writer: AuditWriter, batch: list[tuple[int, bytes]]) -> None:
    records: list[tuple[str, dict[str, Any]]] = []
    error: click.UsageError | None = None
    for number, line in batch:
        try:
            records.append(_parse_line(line, number))
        except click.UsageError as exc:
            error = exc  # the lines before it are appended first
            break
    try:
        seqs = writer.append_many(records)
    except ValueError:
        # a record is invalid and nothing was written: one by one, to name its line
        for (number, _line), (kind, fields) in zip(batch, records, strict=False):
            click.echo(str(_append_record(writer, kind, fields, number)))
            sys.stdout.flush()
        seqs = []
    for seq in seqs:
        click.echo(str(seq))
    sys.stdout.flush()
    if error is not None:
        raise error


def _parse_line(line: bytes, number: int) -> tuple[str, dict[str, Any]]:
    try:
        obj: Any = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        msg = f"stdin line {number}: not JSON ({exc})"
        raise click.UsageError(msg) from None
    if not isinstance(obj, dict) or not isinstance(obj.get("kind"), str):
        msg = f"stdin line {number}: kind must be a string field of an object, received {line!r}"
        raise click.UsageError(msg)
    kind = obj.pop("kind")
    return kind, obj


def _append_record(writer: AuditWriter, kind: str, obj: dict[str, Any], number: int) -> int:
    try:
        if kind == "correction":
            return writer.correct(
                int(obj.pop("supersedes")),
                reason=str(obj.pop("reason")),
                by=str(obj.pop("by")),
                **obj,
            )
        return writer.append(kind, **obj)
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"stdin line {number}: {exc}"
        raise click.UsageError(msg) from None
