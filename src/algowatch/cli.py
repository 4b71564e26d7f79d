"""``algowatch``: the command line, a thin layer over the library.

Each command lives in ``algowatch._cli.<name>`` and is imported only when it
runs, so ``algowatch --help`` stays fast. Exit codes are mapped here, in one
place: 0 success, 1 runtime error, 2 usage error (commands with a documented
scheme of their own, such as ``audit verify``, exit with theirs). Errors print
``Error: ...`` to stderr, without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any

import click

from algowatch import _native
from algowatch.errors import AlgowatchError

__all__ = ["main"]

# command name -> (module under algowatch._cli, attribute, one-line help)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "analyze": (
        "analyze",
        "analyze",
        "Compute the performance and risk summary of a returns file.",
    ),
    "audit": ("audit", "audit", "Verify, export and append to the audit trail."),
    "config": (
        "config",
        "config",
        "Render the Prometheus, Alertmanager and Grafana configuration.",
    ),
    "demo": ("demo", "demo", "Run a simulated trading system with the live dashboard."),
    "replay": ("replay", "replay", "Replay event files through the engine and print the result."),
    "report": (
        "report",
        "report",
        "Write the HTML report of a service, a data folder or a file.",
    ),
    "serve": ("serve", "serve", "Run the monitoring service (API, dashboard, /metrics, health)."),
    "sim": ("sim", "sim", "Run a fleet of simulated bots sending over NATS or HTTP."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, _help = entry
        module = importlib.import_module(f"algowatch._cli.{module_name}")
        command: click.Command = getattr(module, attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, entry[2]) for name, entry in sorted(_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    # looked up when --version is given (importlib.metadata is not imported before)
    package_name="algowatch",
    prog_name="algowatch",
    message=f"%(prog)s, version %(version)s (engine: {_native.STATUS})",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Monitor algorithmic trading systems: metrics, alerts, health and audit."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0911 - one return per exit path
    """Run the CLI and return its exit code (0 ok, 1 runtime error, 2 usage error)."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        # Without standalone mode, click returns ctx.exit(code)'s code instead of raising it.
        result = cli.main(args=argv, prog_name="algowatch", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.UsageError as exc:
        exc.show()
        return 2
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (AlgowatchError, OSError) as exc:
        if debug:
            raise
        click.echo(f"Error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    return result if isinstance(result, int) else 0


def run() -> Any:  # pragma: no cover - console entry point
    """Entry point used by ``python -m algowatch``."""
    code = main()
    # The process ends here: freezing what is left spares the interpreter's final garbage
    # collection over it (a replay's engine state: ~1 s per million events, measured by
    # bench/replay_command.py); the OS reclaims the memory. Not done in main(), which may
    # run inside a caller's process.
    gc.freeze()
    sys.exit(code)
