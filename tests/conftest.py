from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
sys.path.insert(0, str(FIXTURES))

from generate import LICENSE_TEXTS, make_pdf, materialize  # noqa: E402,F401

# Tests never touch the user's checksum cache: one throwaway cache for the session,
# inherited by the CLI runs in subprocesses too.
os.environ["AUDITOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="auditor-test-cache-")
atexit.register(shutil.rmtree, os.environ["AUDITOR_CACHE_DIR"], True)

#: The bundled example with its license texts (built once per test session).
EXAMPLE = ROOT / "build" / "example-model"


def pytest_configure(config: pytest.Config) -> None:
    """Build the example once, before any test: in the xdist controller (workers have a
    ``workerinput``), or in the one process of a plain run. Workers only read it."""
    if not hasattr(config, "workerinput"):
        materialize("example-model", EXAMPLE)


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a fixture repo into a temp folder, so a test may change it freely."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        if name in LICENSE_TEXTS:
            return materialize(name, dest)
        shutil.copytree(FIXTURES / name, dest, symlinks=True)
        return dest

    return copy


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def scan_json(path: Path) -> dict:  # type: ignore[type-arg]
    proc = run_cli("scan", str(path), "--format", "json", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def audit_unprivileged(path: Path) -> dict:  # type: ignore[type-arg]
    """Run the audit as a user the kernel will refuse: as root, in a forked child as nobody.

    chmod 000 does not stop root, so a permission test run by root forks, drops
    to uid 65534 and audits in-process (no exec: the interpreter may live where
    nobody can reach), sending the JSON report back through a pipe.
    """
    from auditor.formats import FORMATS
    from auditor.pipeline import run_audit

    if os.geteuid() != 0:
        return json.loads(FORMATS.get("json")().render(run_audit(str(path))))  # type: ignore[no-any-return]
    # Everything the audit imports lazily is imported here first: the child, as nobody,
    # cannot read the interpreter's own library folder.
    run_audit(str(path))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            data = FORMATS.get("json")().render(run_audit(str(path)))
            with os.fdopen(w, "wb") as fh:
                fh.write(data)
        except BaseException:  # report, never escape into pytest's loop
            with contextlib.suppress(OSError):
                import traceback

                os.write(w, json.dumps({"child_error": traceback.format_exc()}).encode())
            code = 1
        os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        raw = fh.read()
    os.waitpid(pid, 0)
    report = json.loads(raw)
    assert "child_error" not in report, report
    return report  # type: ignore[no-any-return]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="Rewrite tests/goldens/ from the current output (after validation passed).",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session")
def bom_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Each BOM fixture repo audited once, with every checksum a BOM format needs.

    Values are ``AuditResult``s, or the reason the repo could not be built
    (a license text from ../shared/licenses that this checkout lacks)."""
    from bom_support import BOM_FIXTURES, build_fixture

    from auditor.pipeline import Options, run_audit

    root = tmp_path_factory.mktemp("bom")
    results: dict[str, object] = {}
    for name in BOM_FIXTURES:
        try:
            repo = build_fixture(name, root / name.replace(":", "-"))
        except (FileNotFoundError, pytest.skip.Exception) as exc:
            results[name] = f"fixture needs a text this checkout lacks: {exc}"
            continue
        options = Options(checksums=("sha1", "sha256"), checksum_cache=False)
        results[name] = run_audit(str(repo), options)
    return results
