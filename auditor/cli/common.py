"""What every command shares: exit codes, the one-line error, errors mapped to exit codes,
and the options several commands take (--fail-on, --policy, --baseline, --output).

Exit codes: 0 clean, 1 findings (or changes) at or above --fail-on, 2 usage error,
3 the audit itself failed. Only the CLI turns errors into messages.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from auditor.errors import AuditorError, UsageError
from auditor.terminal import visible

if TYPE_CHECKING:
    from auditor.policy import Policy

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
FAIL_ON: tuple[str, ...] = ("error", "warning", "note", "never")

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"auditor: error: {visible(message)}", err=True)
    sys.exit(code)


@contextmanager
def reported(failed_io: Callable[[], str]) -> Iterator[None]:
    """Our errors as one line and an exit code: a ``UsageError`` 2, any other
    ``AuditorError`` 3, an ``OSError`` 3 as ``failed_io()`` (``cannot write X``), asked
    only then, so that it names what was being written when it failed."""
    try:
        yield
    except UsageError as exc:
        fail(str(exc), EXIT_USAGE)
    except AuditorError as exc:
        fail(str(exc), EXIT_FAILED)
    except OSError as exc:
        fail(f"{failed_io()}: {exc.strerror or exc}", EXIT_FAILED)


def threshold(fail_on: str | None, policy: Policy) -> str:
    """--fail-on, else the policy's fail-on, else error."""
    return fail_on or policy.fail_on or "error"


def emit(data: bytes, output: Path | None) -> None:
    """``data`` to standard output, or atomically to ``output``."""
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        from auditor.atomic import write_atomic

        write_atomic(output, data)


def fail_on_option(what: str) -> Callable[[F], F]:
    return click.option(
        "--fail-on",
        type=click.Choice(FAIL_ON),
        default=None,
        help=f"Exit 1 when {what}.  [default: the policy's fail-on, else error]",
    )


def policy_option(instead_of: str) -> Callable[[F], F]:
    return click.option(
        "--policy",
        "policy_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"Policy file to use instead of {instead_of} (docs/policy.md).",
    )


baseline_option = click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Baseline file of accepted findings; overrides the policy's baseline.",
)


def output_option(what: str = "the report") -> Callable[[F], F]:
    return click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"Write {what} to FILE (atomically) instead of standard output.",
    )


def format_names(formats: tuple[str, ...]) -> list[str]:
    """``--format a --format b,c`` as [a, b, c], each once, in order; text by default."""
    names: list[str] = []
    for item in formats:
        for name in item.split(","):
            if name.strip() and name.strip() not in names:
                names.append(name.strip())
    return names or ["text"]


def stem(target: str) -> str:
    """The file name stem of a target's reports: its last path part (``org_name`` on the Hub)."""
    name = target.split("://", 1)[-1].split("@", 1)[0].rstrip("/")
    if "://" in target:
        kind, _, repo = name.rsplit("/", 1)[-1].partition("--")  # hf-cache:///DIR/models--ORG--NAME
        if repo and kind in ("models", "datasets", "spaces"):
            name = repo.replace("--", "/")
        name = name.removeprefix("datasets/").replace("/", "_")
    else:
        name = Path(name).resolve().name if name in ("", ".", "..") else Path(name).name
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "auditor"
