"""A folder walk leaves out what git would not commit, virtualenvs and tool caches."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import run_cli

from auditor.pipeline import Options, run_audit


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def paths(root: Path, **kw: bool) -> list[str]:
    return [f.path for f in run_audit(str(root), Options(**kw)).inventory.files]


def test_gitignore_virtualenvs_and_caches_are_left_out(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "checkpoints/\n*.bin\n!keep.bin\n# a comment\n",
            "train.py": "print(1)\n",
            "keep.bin": "x",
            "weights.bin": "x",
            "checkpoints/step-100/model.safetensors": "x",
            "env/pyvenv.cfg": "home = /usr\n",
            "env/lib/site.py": "x",
            "conda/conda-meta/history": "x",
            "src/__pycache__/a.cpython-311.pyc": "x",
            "web/node_modules/left-pad/index.js": "x",
            "web/app.js": "x",
            "docs/.gitignore": "draft.md\n",
            "docs/draft.md": "x",
            "docs/index.md": "x",
        },
    )
    assert paths(root) == [
        ".gitignore",
        "docs/.gitignore",
        "docs/index.md",
        "keep.bin",
        "train.py",
        "web/app.js",
    ]
    inventory = run_audit(str(root)).inventory
    # weights.bin, checkpoints/, env/, conda/, __pycache__/, node_modules/, docs/draft.md
    assert inventory.ignored == 7
    everything = paths(root, ignore=False)
    assert (
        "env/lib/site.py" in everything and "checkpoints/step-100/model.safetensors" in everything
    )
    assert run_audit(str(root), Options(ignore=False)).inventory.ignored == 0


def test_git_info_exclude_and_tracked_files(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "*.safetensors\nlocal/\n",
            "model.safetensors": "x",
            "other.safetensors": "x",
            "local/notes.txt": "x",
            "scratch.txt": "x",
            "README.md": "# m\n",
        },
    )
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "exclude").write_text("scratch.txt\n")
    # force-added: tracked although ignored, so part of the repository
    subprocess.run(
        ["git", "-C", str(root), "add", "-f", "model.safetensors", "README.md"], check=True
    )
    assert paths(root) == [".gitignore", "README.md", "model.safetensors"]


def test_the_report_says_how_many_were_ignored(tmp_path: Path) -> None:
    root = tree(tmp_path, {".gitignore": "out/\n", "out/a.txt": "x", "a.py": "print(1)\n"})
    (root / ".venv").mkdir()
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    text = run_cli("scan", str(root), "-q").stdout
    assert (
        "2 ignored as git would (.gitignore, virtualenvs, caches; --no-ignore reads them)" in text
    )
    report = json.loads(run_cli("scan", str(root), "--format", "json").stdout)
    assert report["summary"]["ignored"] == 2
    report = json.loads(run_cli("scan", str(root), "--format", "json", "--no-ignore").stdout)
    assert report["summary"]["ignored"] == 0
    assert any(f["path"] == ".venv/pyvenv.cfg" for f in report["files"])


def test_a_broken_or_huge_ignore_file_ignores_nothing(tmp_path: Path) -> None:
    root = tree(tmp_path, {"a.py": "1\n", "b.py": "2\n"})
    (root / ".gitignore").write_bytes(b"\xff\xfe[\n")
    assert "a.py" in paths(root) and "b.py" in paths(root)


def test_agrees_with_git_on_a_tricky_tree(tmp_path: Path) -> None:
    """What the walk keeps is what `git ls-files --cached --others --exclude-standard`
    lists, on patterns that trip hand-written matchers: anchored and unanchored names,
    `**`, folder-only patterns, negation under an excluded folder (which git does not
    re-include), deeper files overriding, escaped `#` and `!`, trailing spaces."""
    root = tree(
        tmp_path,
        {
            ".gitignore": (
                "/build\n*.log\n!important.log\nlogs/\n**/tmp/**\ndata/**/*.csv\n"
                "\\#notes.txt\n\\!bang.txt\nspaced.txt   \nsub/anchored.txt\ncache*/\n"
                "excluded/\n!excluded/keep.txt\n"
            ),
            "build/out.o": "x",
            "src/build/gen.py": "x",  # /build is anchored: src/build is kept
            "a.log": "x",
            "important.log": "x",
            "logs/x.txt": "x",
            "src/logs": "a file named logs: a folder-only pattern does not match it",
            "src/tmp/t.txt": "x",
            "tmp.txt": "x",
            "data/a.csv": "x",
            "data/deep/er/b.csv": "x",
            "data/readme.md": "x",
            "#notes.txt": "x",
            "!bang.txt": "x",
            "spaced.txt": "x",
            "sub/anchored.txt": "x",
            "other/sub/anchored.txt": "x",
            "cache1/x": "x",
            "cachefile": "x",
            "excluded/keep.txt": "x",
            "excluded/other.txt": "x",
            "nested/.gitignore": "*.txt\n!keep.txt\n",
            "nested/a.txt": "x",
            "nested/keep.txt": "x",
            "nested/a.log": "x",
            "nested/deeper/.gitignore": "!*.log\n",
            "nested/deeper/b.log": "x",
            "nested/deeper/c.txt": "x",
            "README.md": "# m\n",
        },
    )
    git = ["git", "-C", str(root), "-c", "core.excludesFile=/dev/null"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "add", "-f", "build/out.o"], check=True)  # tracked though ignored
    listed = subprocess.run(
        [*git, "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    expected = sorted(p for p in listed.split("\0") if p)
    assert "build/out.o" in expected and "src/build/gen.py" in expected
    assert paths(root) == expected
