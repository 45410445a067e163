"""The command line: reports, exit codes, atomic output, one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLE, FIXTURES, run_cli, scan_json

from auditor.cli import cli
from auditor.formats import FORMATS


def test_text_report_of_the_example() -> None:
    proc = run_cli("scan", str(EXAMPLE))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    lines = out.splitlines()
    # the summary first: repository, code, weights, data, verdict
    assert lines[3:8] == [
        "  repository  MIT License (mit)",
        "  code        MIT License (mit)",
        "  weights     Apache License 2.0 (apache-2.0)",
        "  data        no such files, and nothing states a license for them",
        "  verdict     0 errors, 0 warnings, 0 notes — exit 0 (--fail-on error)",
    ]
    assert "code       MIT License (mit)" in out
    assert "model      Apache License 2.0 (apache-2.0)" in out
    assert "from LICENSE-MODEL:1 — a license file for this part" in out
    assert "openness: open-weights" in out
    assert "model      apache-2.0: state prominently which files you changed" in out
    assert "README.md:2 (card-metadata)" in out
    assert "train.py:1 (spdx-tag)" in out
    # findings before obligations and evidence
    assert out.index("Findings (0)") < out.index("Obligations") < out.index("Evidence")


def test_text_report_quiet_and_verbose(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    repo = fixture_copy("example-model")
    (repo / "README.md").write_text(
        "---\nlicense: gpl-3.0\n---\n# tiny\n\nWe compared it with models under the MIT license.\n"
    )
    quiet = run_cli("scan", str(repo), "--quiet")
    assert quiet.returncode == 1
    assert "Licenses" not in quiet.stdout and "Evidence" not in quiet.stdout
    assert "verdict     1 error" in quiet.stdout and "exit 1 (--fail-on error)" in quiet.stdout
    assert "W license-mismatch [model]" in quiet.stdout
    assert "fix:" not in quiet.stdout
    default = run_cli("scan", str(repo)).stdout
    # the card disagrees with the shipped text: one "but" line, with its place
    assert "but gpl-3.0 at README.md:2" in default
    verbose = run_cli("scan", str(repo), "-v").stdout
    # the comparison is a mention: listed with -v only, and never a "but"
    assert "mit [MIT] (prose, mention), scope model — README.md:6" in verbose
    assert "README.md:6" not in default
    both = run_cli("scan", str(repo), "-q", "-v")
    assert both.returncode == 2 and "cannot be used together" in both.stderr


def test_json_report_of_the_example() -> None:
    report = scan_json(EXAMPLE)
    comps = {c["kind"]: c for c in report["components"]}
    assert comps["code"]["concluded"] == "mit"
    assert comps["model"]["concluded"] == "apache-2.0"
    assert comps["model"]["reason"] == "a license file for this part"
    # the lone LICENSE covers the repository; the weights have their own license file
    assert report["repository"]["concluded"] == "mit"
    assert [b["evidence"][0]["path"] for b in comps["model"]["basis"]] == ["LICENSE-MODEL"]
    assert comps["model"]["disagreeing"] == []
    kinds = {o["kind"] for o in comps["model"]["obligations"]}
    assert {"license-copy", "notice-file", "modification-notice"} <= kinds
    (lic,) = [
        x for x in comps["model"]["licenses"] if x["evidence"][0]["method"] == "card-metadata"
    ]
    assert (lic["key"], lic["spdx_id"], lic["name"]) == (
        "apache-2.0",
        "Apache-2.0",
        "Apache License 2.0",
    )
    assert lic["evidence"] == [
        {
            "path": "README.md",
            "start_line": 2,
            "end_line": 2,
            "method": "card-metadata",
            "excerpt": "license: apache-2.0",
        }
    ]
    assert sorted(comps["model"]["files"]) == [
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    assert {f["name"]: f["value"] for f in report["facts"]}["base_model"] == "acme/tiny-base"
    assert report["findings"] == []


def test_json_is_byte_stable() -> None:
    a = run_cli("scan", str(FIXTURES / "kinds"), "--format", "json").stdout
    b = run_cli("scan", str(FIXTURES / "kinds"), "--format", "json").stdout
    assert a == b and a


def test_exit_1_on_findings_and_fail_on(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    repo = fixture_copy("example-model")
    (repo / "README.md").write_text("# no front matter, so no model license\n")
    (repo / "LICENSE-MODEL").unlink()
    (repo / "LICENSE").rename(repo / "LICENSE-CODE")  # a lone LICENSE would cover the model too
    proc = run_cli("scan", str(repo))
    assert proc.returncode == 1
    assert "E license-missing [model]" in proc.stdout
    assert run_cli("scan", str(repo), "--fail-on", "never").returncode == 0
    # a warning alone fails only when asked
    (repo / "README.md").write_text("---\nlicense: gpl\n---\n")
    assert run_cli("scan", str(repo)).returncode == 0
    assert run_cli("scan", str(repo), "--fail-on", "warning").returncode == 1
    assert run_cli("scan", str(repo), "--fail-on", "note").returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["scan", "/nonexistent/model"],
            "auditor: error: no such file or directory: /nonexistent/model",
        ),
        (
            ["scan", str(EXAMPLE / "README.md")],
            "auditor: error: not a directory:",
        ),
        (
            ["scan", str(EXAMPLE), "--format", "nope"],
            "auditor: error: unknown format 'nope'",
        ),
        (
            ["scan", str(EXAMPLE), "-o", "/nonexistent/dir/r.json"],
            "auditor: error: cannot write /nonexistent/dir/r.json: no such directory",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan"], "auditor: error: Missing argument 'TARGET'."),
        (["scan", ".", "--fail-on", "bogus"], "auditor: error: Invalid value for '--fail-on'"),
        (["scan", ".", "--nope"], "auditor: error: No such option"),
        (
            ["scan", str(FIXTURES), "-o", str(FIXTURES)],
            "auditor: error: Invalid value for '--output'",
        ),
        (["frobnicate"], "auditor: error: No such command"),
    ],
)
def test_parser_errors_are_one_line_too(args: list[str], message: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(message)


def test_unwritable_output_dir_is_usage_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/auditor-report.json")  # root may write anywhere but /proc
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        target = ro / "r.json"
    proc = run_cli("scan", str(EXAMPLE), "-o", str(target))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"auditor: error: cannot write {target}:")
    assert proc.stderr.count("\n") == 1


def test_audit_failure_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import auditor.signatures as sig

    (tmp_path / "notes.txt").write_text("nothing here names a license\n")
    sig.catalog.cache_clear()
    monkeypatch.setattr(sig, "CATALOG_FILE", tmp_path / "missing-catalog.json")
    try:
        result = CliRunner().invoke(cli, ["scan", str(tmp_path)])
    finally:
        sig.catalog.cache_clear()
    assert result.exit_code == 3
    assert "auditor: error: cannot read license catalog" in result.output


def test_unlistable_root_exits_3(tmp_path: Path) -> None:
    import auditor.sources.local as local
    from auditor.errors import SourceError

    src = local.LocalSource(str(tmp_path))
    src.root = tmp_path / "gone"  # vanished between the check and the walk
    with pytest.raises(SourceError, match="cannot list"):
        src.inventory()


def test_output_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "report.json"
    proc = run_cli("scan", str(EXAMPLE), "--format", "json", "-o", str(out))
    assert proc.returncode == 0 and proc.stdout == ""
    first = out.read_bytes()
    assert json.loads(first)["report_version"].startswith("1.")

    # A render that dies halfway leaves the previous report whole and no temp file behind.
    fmt = FORMATS.get("json")

    def boom(self, result):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(fmt, "render", boom)
    result = CliRunner().invoke(cli, ["scan", str(EXAMPLE), "--format", "json", "-o", str(out)])
    assert result.exit_code != 0
    assert out.read_bytes() == first
    assert os.listdir(tmp_path) == ["report.json"]


def test_write_failure_midway_keeps_old_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report.json"
    out.write_text("old report\n")

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)  # what auditor.atomic calls
    result = CliRunner().invoke(cli, ["scan", str(EXAMPLE), "-o", str(out)])
    assert result.exit_code == 3
    assert "No space left on device" in result.output
    assert out.read_text() == "old report\n"
    assert os.listdir(tmp_path) == ["report.json"]


def test_bad_input_continues_and_lists_every_problem() -> None:
    proc = run_cli("scan", str(FIXTURES / "bad-input"), "--format", "json", "--fail-on", "warning")
    assert proc.returncode == 1, proc.stderr  # findings, not a crash
    report = json.loads(proc.stdout)
    # The placeholder license files hold our own words: unknown, never a guess.
    unknown = {f["path"] for f in report["findings"] if f["rule"] == "unknown-license"}
    assert {"LICENSE-UTF16.txt", "LICENSE-UTF16BE-NOBOM.txt", "MODEL_LICENSE"} <= unknown
    assert all(
        lic["key"] == "unknown-license-reference"
        for lic in report["licenses"]
        if lic["evidence"][0]["method"] == "license-text"
    )
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert skipped == {
        "LICENSE": "binary content (NUL bytes), not text",
        "README.md": "YAML front matter is not valid (line 4: did not find expected ',' or ']')",
        "cut-header.safetensors": "truncated safetensors header: declares 104 bytes, file has 22 after the length",
        "empty.gguf": "empty weights file (0 bytes)",
        "empty.safetensors": "empty weights file (0 bytes)",
        "pickle-in-disguise.safetensors": "named as safetensors but the content is pickle",
        "truncated.gguf": "truncated GGUF file: ends inside metadata key/value 1 of 4 (60 bytes)",
        "truncated.safetensors": "truncated safetensors header: declares 104 bytes, file has 100 after the length",
    }
    # Every file is still in the inventory, readable or not: nothing silently dropped.
    formats = {f["path"]: f["format"] for f in report["files"]}
    assert formats["truncated.safetensors"] is None  # sniffing found no valid header
    assert formats["ok.safetensors"] == "safetensors"
    assert formats["pickle-in-disguise.safetensors"] == "pickle"  # what the bytes are
    paths = {f["path"] for f in report["files"]}
    assert set(skipped) <= paths
    assert len(paths) == len(os.listdir(FIXTURES / "bad-input"))


def test_bad_input_texts_are_read_in_their_encodings() -> None:
    from auditor.sources.local import LocalSource

    src = LocalSource(str(FIXTURES / "bad-input"))
    assert src.read_text("MODEL_LICENSE", 1 << 20).encoding == "gb18030"
    assert "模型许可协议" in src.read_text("MODEL_LICENSE", 1 << 20).text
    assert (
        src.read_text("LICENSE-UTF16.txt", 1 << 20).text
        == "Our own license words, saved as UTF-16.\n"
    )
    assert src.read_text("LICENSE-UTF16BE-NOBOM.txt", 1 << 20).encoding == "utf-16-be"
    assert src.read_text("LICENSE-BOM.md", 1 << 20).text.startswith("Our own")
    assert (
        src.read_text("NOTICE", 1 << 20).text == "Copyright 2026 Jürgen Müller, Zürich – façade.\n"
    )
    assert src.read_text("LICENSE-CRLF.txt", 1 << 20).text == "Line one of our text.\nLine two.\n"


def test_verbose_flag_logs(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("# SPDX-License-Identifier: MIT\n")
    proc = run_cli("-vv", "scan", str(tmp_path), "--fail-on", "never")
    assert proc.returncode == 0
    assert "auditor: DEBUG: inventory of" in proc.stderr


def test_output_to_a_device_is_written_not_replaced(tmp_path: Path) -> None:
    before = os.stat(os.devnull)
    proc = run_cli("scan", str(EXAMPLE), "-o", os.devnull)
    assert proc.returncode == 0, proc.stderr
    after = os.stat(os.devnull)
    import stat as st

    assert st.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_output_through_a_fifo(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    proc = run_cli("scan", str(EXAMPLE), "--format", "json", "-o", str(fifo))
    reader.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(got[0])["report_version"].startswith("1.")
    assert fifo.is_fifo()


def test_output_symlink_keeps_pointing_at_its_target(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "r.json"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    assert run_cli("scan", str(EXAMPLE), "--format", "json", "-o", str(link)).returncode == 0
    assert link.is_symlink() and json.loads(target.read_text())["report_version"].startswith("1.")


# -- progress ------------------------------------------------------------------------------


class _Terminal:
    """A text stream that says it is a terminal, for click's progress bar."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    @property
    def text(self) -> str:
        return "".join(self.parts)


def test_progress_bar_draws_each_stage_past_the_delay() -> None:
    from auditor.cli.progress import TerminalProgress

    term = _Terminal()
    progress = TerminalProgress(file=term, delay=0.0)  # type: ignore[arg-type]
    progress.start("reading", 3)
    for _ in range(3):
        progress.advance()
    progress.start("hashing", 5_000_000, unit="bytes")
    progress.advance(5_000_000)
    progress.finish()
    assert "auditor: reading" in term.text and "3/3" in term.text
    assert "auditor: hashing 5.0 MB" in term.text and "100%" in term.text


def test_progress_bar_stays_hidden_for_a_quick_audit() -> None:
    from auditor.cli.progress import TerminalProgress

    term = _Terminal()
    progress = TerminalProgress(file=term, delay=60.0)  # type: ignore[arg-type]
    progress.start("listing files")
    for _ in range(100):
        progress.advance()
    progress.finish()
    assert term.text == ""


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    from auditor.cli.progress import progress_for
    from auditor.progress import Progress

    assert type(progress_for(quiet=False)) is Progress  # pytest's stderr is not a terminal
    proc = run_cli("scan", str(EXAMPLE), "--format", "json", "-o", str(tmp_path / "r.json"))
    assert proc.returncode == 0 and proc.stderr == ""


def test_the_pipeline_reports_its_stages() -> None:
    from auditor.pipeline import Options, run_audit
    from auditor.progress import Progress

    class Recording(Progress):
        def __init__(self) -> None:
            self.stages: list[tuple[str, int | None, str]] = []
            self.done: dict[str, int] = {}

        def start(self, stage: str, total: int | None = None, unit: str = "files") -> None:
            self.stages.append((stage, total, unit))
            self.done[stage] = 0

        def advance(self, n: int = 1) -> None:
            self.done[self.stages[-1][0]] += n

    rec = Recording()
    options = Options(checksums=("sha256",), checksum_cache=False, progress=rec)
    result = run_audit(str(EXAMPLE), options)
    names = [s[0] for s in rec.stages]
    assert names == ["listing files", "hashing", "reading"]
    assert rec.done["listing files"] == len(result.inventory.files)
    hashing = rec.stages[1]
    assert hashing[2] == "bytes" and rec.done["hashing"] == hashing[1]
    assert hashing[1] == sum(f.size for f in result.inventory.files if not f.lfs)
    assert 0 < rec.done["reading"] == rec.stages[2][1] <= len(result.inventory.files)
