"""Command line: one module per command (``scan``, ``check``, ``diff``, ``registry``);
``common`` holds the exit codes, the error mapping and the shared options.

Commands import the pipeline, formats and sources inside their bodies, so that
``auditor --help`` and the pre-commit hook do not pay for what they do not run.
"""

from __future__ import annotations

import os
import sys

import click

from auditor import __version__
from auditor.cli.check import check
from auditor.cli.common import EXIT_FAILED, EXIT_USAGE, fail
from auditor.cli.diff import diff
from auditor.cli.registry import registry
from auditor.cli.scan import scan


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """License and AI-BOM auditor for AI model repositories."""
    import logging

    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(format="auditor: %(levelname)s: %(message)s")
    logging.getLogger("auditor").setLevel(level)


for command in (scan, check, diff, registry):
    cli.add_command(command)


def main() -> None:
    """Entry point: click's own usage errors become one line, like ours."""
    try:
        code = cli.main(prog_name="auditor", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("auditor: error: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        fail(exc.format_message(), EXIT_USAGE)
    except Exception as exc:  # a defect of ours: one line and exit 3, never exit 1
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        where = _where(exc)
        fail(
            f"internal error: {type(exc).__name__}: {str(exc)[:500]}{where} "
            "(please report it; AUDITOR_DEBUG=1 shows the traceback)",
            EXIT_FAILED,
        )
    sys.exit(code or 0)


def _where(exc: BaseException) -> str:
    """`` at module.py:LINE``, the innermost frame of ours the error came through."""
    import traceback

    ours = [f for f in traceback.extract_tb(exc.__traceback__) if "/auditor/" in f.filename]
    if not ours:
        return ""
    frame = ours[-1]
    return f" at {frame.filename.rsplit('/auditor/', 1)[-1]}:{frame.lineno}"


__all__ = ["cli", "main"]
