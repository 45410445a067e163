"""Command line: one module per command (``scan``, ``check``, ``diff``, ``registry``);
``common`` holds the exit codes, the error mapping and the shared options.

Commands import the pipeline, formats and sources inside their bodies, so that
``auditor --help`` and the pre-commit hook do not pay for what they do not run.
"""

from __future__ import annotations

import sys

import click

from auditor import __version__
from auditor.cli.check import check
from auditor.cli.common import EXIT_USAGE, fail
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
    sys.exit(code or 0)


__all__ = ["cli", "main"]
