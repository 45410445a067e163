"""The checksum stage (auditor.checksums): reuse, one pass, cache, unreadable files."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from generate import lfs_pointer, safetensors_bytes

from auditor import checksums
from auditor.checksums import CACHE_FILE, MIN_CACHED, fill, stream_digests
from auditor.model import Inventory, Skipped
from auditor.pipeline import Options, run_audit
from auditor.sources.local import LocalSource
from auditor.weights import ReadAt

BOTH = ("sha1", "sha256")
BIG = MIN_CACHED + 12345  # cached: at least MIN_CACHED bytes


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache per test; files just written count as settled (no racy window)."""
    d = tmp_path / "cache"
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(d))
    monkeypatch.setattr(checksums, "RACY_NS", 0)
    return d


Reads = list[tuple[str, tuple[str, ...]]]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    """Every file stream_digests reads (its name) with the algorithms asked for."""
    seen: Reads = []
    real = checksums.stream_digests
    lock = threading.Lock()

    def spy(data: Any, algorithms: Any, **kw: Any) -> dict[str, str]:
        with lock:
            seen.append(
                (os.path.basename(data) if isinstance(data, str) else "<reader>", tuple(algorithms))
            )
        return real(data, algorithms, **kw)

    monkeypatch.setattr(checksums, "stream_digests", spy)
    return seen


def content(n: int, seed: int = 0) -> bytes:
    """n bytes that are not all zeros, different per seed."""
    block = hashlib.sha256(str(seed).encode()).digest()
    return (block * (n // len(block) + 1))[:n]


def repo(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def expected(data: bytes) -> dict[str, str]:
    return {"sha1": hashlib.sha1(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest()}


def digests_of(inv: Inventory) -> dict[str, dict[str, str | None]]:
    return {f.path: {"sha1": f.sha1, "sha256": f.sha256} for f in inv.files}


def audit(root: Path, algorithms: tuple[str, ...] = BOTH, **kw: Any) -> Inventory:
    source = LocalSource(str(root))
    return fill(source, source.inventory(), algorithms, **kw)


# --- digests ---------------------------------------------------------------


def test_every_file_gets_both_digests_in_one_pass(tmp_path: Path, reads: Reads) -> None:
    files = {
        "model.safetensors": safetensors_bytes({"format": "pt"}) + content(3 * BIG, 1),
        "config.json": b'{"model_type": "llama"}\n',
        "README.md": b"# tiny\n",
        "LICENSE": b"",
        "sub/weights.bin": content(BIG, 2),
        "sub/more.bin": content(2 * BIG, 3),
    }
    inv = audit(repo(tmp_path / "r", files), workers=4)
    assert digests_of(inv) == {name: expected(data) for name, data in files.items()}
    # each file read once, both algorithms from the same read
    assert sorted(reads) == sorted((os.path.basename(n), BOTH) for n in files)
    assert inv.skipped == ()


def test_one_algorithm_leaves_the_other_unset(tmp_path: Path) -> None:
    data = content(1000)
    inv = audit(repo(tmp_path / "r", {"a.py": data}), ("sha1",))
    (entry,) = inv.files
    assert entry.sha1 == hashlib.sha1(data).hexdigest() and entry.sha256 is None


def test_parallel_and_serial_agree(tmp_path: Path) -> None:
    files = {f"shard-{i}.bin": content(BIG + i * 1000, i) for i in range(9)}
    root = repo(tmp_path / "r", files)
    parallel = audit(root, workers=4, cache=False)
    serial = audit(root, workers=1, cache=False)
    assert digests_of(parallel) == digests_of(serial)
    assert digests_of(parallel) == {n: expected(d) for n, d in files.items()}


def test_lfs_pointer_is_never_read(tmp_path: Path, reads: Reads) -> None:
    real = content(5000, 7)
    root = repo(tmp_path / "r", {"model.safetensors": lfs_pointer(real), "a.py": b"x = 1\n"})
    inv = audit(root)
    entry = inv.by_path()["model.safetensors"]
    assert entry.lfs and entry.sha256 == hashlib.sha256(real).hexdigest()
    assert entry.sha1 is None  # the content is not here: its sha1 cannot be known
    assert entry.size == len(real)
    assert [name for name, _ in reads] == ["a.py"]
    assert inv.skipped == ()


def test_known_digests_are_reused(tmp_path: Path, reads: Reads) -> None:
    data = content(BIG, 4)
    root = repo(tmp_path / "r", {"w.bin": data})
    source = LocalSource(str(root))
    inv = source.inventory()
    known = "ab" * 32  # whatever the source says is kept, not recomputed
    inv = replace(inv, files=(replace(inv.files[0], sha256=known),))
    assert fill(source, inv, ("sha256",)) == inv
    assert reads == []
    both = fill(source, inv, BOTH, cache=False)
    assert reads == [("w.bin", ("sha1",))]  # only the missing algorithm
    assert both.files[0].sha256 == known
    assert both.files[0].sha1 == hashlib.sha1(data).hexdigest()
    done = replace(inv, files=(replace(inv.files[0], sha1="cd" * 20),))
    assert fill(source, done, BOTH) is done


def test_unknown_algorithm_is_a_programming_error(tmp_path: Path) -> None:
    root = repo(tmp_path / "r", {"a": b"a"})
    with pytest.raises(ValueError, match="md5"):
        audit(root, ("sha256", "md5"))
    with pytest.raises(ValueError, match="SHA256"):
        stream_digests(root / "a", ["SHA256"])


def test_no_algorithm_reads_nothing(tmp_path: Path, reads: Reads) -> None:
    source = LocalSource(str(repo(tmp_path / "r", {"a": b"a"})))
    inv = source.inventory()
    assert fill(source, inv, ()) is inv
    assert reads == []


def test_stream_digests_from_a_path_or_a_reader(tmp_path: Path) -> None:
    data = content(3 * (1 << 20) + 17, 5)  # several buffers and a short tail
    p = tmp_path / "f"
    p.write_bytes(data)
    assert stream_digests(p, BOTH) == expected(data)
    assert stream_digests(str(p), ["sha256"], buffer_size=4096) == {
        "sha256": hashlib.sha256(data).hexdigest()
    }

    def read_at(offset: int, length: int) -> bytes:
        return data[offset : offset + length]

    assert stream_digests(read_at, BOTH, buffer_size=1000) == expected(data)
    assert stream_digests(lambda o, n: b"", BOTH) == expected(b"")


def test_a_path_swapped_for_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    root = repo(tmp_path / "r", {"w.bin": content(100)})
    source = LocalSource(str(root))
    inv = source.inventory()
    (root / "w.bin").unlink()
    os.mkfifo(root / "w.bin")
    out = fill(source, inv, BOTH)
    assert out.skipped == (Skipped("w.bin", "cannot hash: not a regular file"),)
    with pytest.raises(IsADirectoryError):
        stream_digests(tmp_path, BOTH)


class ReaderOnly(LocalSource):
    """A source with no local path and no stat key (as a remote one would be)."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.opened: list[str] = []

    def location(self, path: str) -> str | None:
        return None

    def stat_key(self, path: str) -> tuple[int, ...] | None:
        return None

    def reader(self, path: str) -> AbstractContextManager[ReadAt]:
        self.opened.append(path)
        return super().reader(path)


def test_reader_fallback_without_location_and_no_cache_without_stat_key(
    tmp_path: Path, cache_dir: Path
) -> None:
    data = content(BIG, 6)
    source = ReaderOnly(str(repo(tmp_path / "r", {"w.bin": data})))
    inv = source.inventory()
    source.opened.clear()
    assert digests_of(fill(source, inv, BOTH)) == {"w.bin": expected(data)}
    assert source.opened == ["w.bin"]
    assert digests_of(fill(source, inv, BOTH)) == {"w.bin": expected(data)}
    assert source.opened == ["w.bin", "w.bin"]  # nothing to key a cache entry on


# --- cache -----------------------------------------------------------------


def fail_on_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def no(*a: Any, **kw: Any) -> dict[str, str]:
        raise AssertionError(f"read {a[0]}")

    monkeypatch.setattr(checksums, "stream_digests", no)


def test_second_audit_reads_no_bytes(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"a.safetensors": content(BIG, 1), "b.bin": content(2 * BIG, 2)}
    root = repo(tmp_path / "r", files)
    first = audit(root)
    assert (cache_dir / CACHE_FILE).is_file()
    fail_on_read(monkeypatch)
    second = audit(root)
    assert second == first
    assert digests_of(second) == {n: expected(d) for n, d in files.items()}


def test_chmod_is_a_miss(tmp_path: Path, reads: Reads) -> None:
    """ctime moves on chmod too: a false miss costs one re-hash, never a wrong digest.

    (So "chmod 000 after the first run" cannot show a hit reads nothing:
    test_second_audit_reads_no_bytes makes any read fail instead.)"""
    root = repo(tmp_path / "r", {"w.bin": content(BIG, 1)})
    audit(root)
    (root / "w.bin").chmod(0o600)
    audit(root)
    assert len(reads) == 2


def test_small_files_are_not_cached(tmp_path: Path, reads: Reads) -> None:
    root = repo(tmp_path / "r", {"small.json": content(MIN_CACHED - 1), "big.bin": content(BIG)})
    audit(root)
    reads.clear()
    audit(root)
    assert reads == [("small.json", BOTH)]


def test_a_hit_without_the_wanted_algorithm_computes_only_that(
    tmp_path: Path, reads: Reads
) -> None:
    data = content(BIG, 3)
    root = repo(tmp_path / "r", {"w.bin": data})
    audit(root, ("sha256",))
    reads.clear()
    inv = audit(root)
    assert reads == [("w.bin", ("sha1",))]
    assert digests_of(inv) == {"w.bin": expected(data)}
    reads.clear()
    assert digests_of(audit(root)) == {"w.bin": expected(data)}  # both stored now
    assert reads == []


def test_same_size_rewrite_with_mtime_put_back_is_a_miss(tmp_path: Path) -> None:
    old, new = content(BIG, 1), content(BIG, 2)
    root = repo(tmp_path / "r", {"w.bin": old})
    p = root / "w.bin"
    assert digests_of(audit(root)) == {"w.bin": expected(old)}
    st = p.stat()
    p.write_bytes(new)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # ctime still moves
    assert p.stat().st_mtime_ns == st.st_mtime_ns and p.stat().st_size == st.st_size
    assert digests_of(audit(root)) == {"w.bin": expected(new)}


def test_replaced_file_is_a_miss(tmp_path: Path) -> None:
    old, new = content(BIG, 1), content(BIG, 2)
    root = repo(tmp_path / "r", {"w.bin": old})
    audit(root)
    tmp = root / "w.bin.tmp"
    tmp.write_bytes(new)
    os.replace(tmp, root / "w.bin")  # new inode
    assert digests_of(audit(root)) == {"w.bin": expected(new)}


def test_recently_changed_files_are_not_cached(
    tmp_path: Path, reads: Reads, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checksums, "RACY_NS", 3600 * 10**9)
    root = repo(tmp_path / "r", {"w.bin": content(BIG)})
    audit(root)
    audit(root)
    assert len(reads) == 2


def test_no_cache_file_for_small_files_only(tmp_path: Path, cache_dir: Path) -> None:
    audit(repo(tmp_path / "r", {"a.py": b"x = 1\n", "config.json": b"{}"}))
    assert not cache_dir.exists()


def test_cached_digest_is_recomputed_when_the_file_moves_while_read(
    tmp_path: Path, reads: Reads, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = content(BIG, 8)
    root = repo(tmp_path / "r", {"w.bin": data})
    audit(root, ("sha256",))
    source = LocalSource(str(root))
    inv = source.inventory()
    real_key = source.stat_key("w.bin")
    keys = iter([real_key, (1, 2, 3, 4, 5), (1, 2, 3, 4, 5)])
    monkeypatch.setattr(source, "stat_key", lambda path: next(keys))
    reads.clear()
    out = fill(source, inv, BOTH)
    # the cache gave sha256 for the key seen first; the file "changed", so both are read again
    assert reads == [("w.bin", ("sha1",)), ("w.bin", BOTH)]
    assert digests_of(out) == {"w.bin": expected(data)}


def test_cache_false_neither_reads_nor_writes(
    tmp_path: Path, cache_dir: Path, reads: Reads
) -> None:
    root = repo(tmp_path / "r", {"w.bin": content(BIG)})
    audit(root, cache=False)
    assert not cache_dir.exists()
    audit(root)
    reads.clear()
    audit(root, cache=False)
    assert len(reads) == 1


def test_corrupt_cache_never_fails_an_audit(
    tmp_path: Path, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = content(BIG)
    root = repo(tmp_path / "r", {"w.bin": data})
    cache_dir.mkdir()
    (cache_dir / CACHE_FILE).write_bytes(b"this is not a database" * 1000)
    with caplog.at_level(logging.WARNING, logger="auditor.checksums"):
        inv = audit(root)
    assert digests_of(inv) == {"w.bin": expected(data)}
    assert "checksum cache" in caplog.text


def test_unusable_cache_dir_never_fails_an_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(not_a_dir / "cache"))
    data = content(BIG)
    with caplog.at_level(logging.WARNING, logger="auditor.checksums"):
        inv = audit(repo(tmp_path / "r", {"w.bin": data}))
    assert digests_of(inv) == {"w.bin": expected(data)}
    assert "not used" in caplog.text


def test_cache_schema_is_versioned(tmp_path: Path, cache_dir: Path, reads: Reads) -> None:
    root = repo(tmp_path / "r", {"w.bin": content(BIG)})
    audit(root)
    db = sqlite3.connect(cache_dir / CACHE_FILE)
    assert db.execute("PRAGMA user_version").fetchone()[0] == checksums.SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute("PRAGMA user_version = 99")  # written by a newer auditor: left alone
    db.commit()
    reads.clear()
    audit(root)
    assert len(reads) == 1
    db.execute("PRAGMA user_version = 0")  # an older layout: rebuilt
    db.execute("DROP TABLE digests")
    db.execute("CREATE TABLE digests (x)")
    db.commit()
    db.close()
    audit(root)
    reads.clear()
    audit(root)
    assert reads == []


def test_concurrent_audits_share_the_cache(tmp_path: Path) -> None:
    files = {f"w{i}.bin": content(BIG, i) for i in range(4)}
    root = repo(tmp_path / "r", files)
    want = {n: expected(d) for n, d in files.items()}
    results: list[dict[str, dict[str, str | None]]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(digests_of(audit(root, workers=2)))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == [want] * 4


# --- files that cannot be hashed -------------------------------------------


def test_unreadable_file_is_skipped_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = content(100)
    root = repo(tmp_path / "r", {"ok.txt": data, "secret.bin": content(200), "gone.bin": b"x"})
    source = LocalSource(str(root))
    inv = source.inventory()
    inv = replace(inv, skipped=(Skipped("ok.txt", "something else"),))
    (root / "gone.bin").unlink()
    real = checksums.stream_digests

    def denied(data: Any, algorithms: Any, **kw: Any) -> dict[str, str]:
        if str(data).endswith("secret.bin"):
            raise PermissionError(13, "Permission denied")
        return real(data, algorithms, **kw)

    monkeypatch.setattr(checksums, "stream_digests", denied)
    out = fill(source, inv, BOTH)
    assert [f.path for f in out.files] == ["gone.bin", "ok.txt", "secret.bin"]
    assert digests_of(out)["ok.txt"] == expected(data)
    assert digests_of(out)["secret.bin"] == {"sha1": None, "sha256": None}
    assert out.skipped == (
        Skipped("gone.bin", "cannot hash: vanished while reading"),
        Skipped("ok.txt", "something else"),
        Skipped("secret.bin", "cannot hash: permission denied"),
    )
    again = fill(source, out, BOTH)  # de-duplicated
    assert again.skipped == out.skipped


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file")
def test_permission_denied_for_real(tmp_path: Path) -> None:
    root = repo(tmp_path / "r", {"secret.bin": content(10)})
    source = LocalSource(str(root))
    inv = source.inventory()
    (root / "secret.bin").chmod(0)
    try:
        out = fill(source, inv, BOTH)
    finally:
        (root / "secret.bin").chmod(0o644)
    assert Skipped("secret.bin", "cannot hash: permission denied") in out.skipped


def test_file_changing_while_read_is_not_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path / "r", {"w.bin": content(BIG)})
    source = LocalSource(str(root))
    inv = source.inventory()
    ticks: Iterator[int] = iter(range(100))
    monkeypatch.setattr(source, "stat_key", lambda path: (1, 2, BIG, next(ticks), 0))
    out = fill(source, inv, BOTH)
    assert out.files[0].sha256 is None
    assert out.skipped == (Skipped("w.bin", "cannot hash: changed while being read"),)


# --- through the pipeline --------------------------------------------------


def test_run_audit_fills_checksums(tmp_path: Path) -> None:
    weights = safetensors_bytes({"format": "pt"}) + content(BIG, 9)
    files = {
        "model.safetensors": weights,
        "config.json": b'{"model_type": "llama"}\n',
        "README.md": b"---\nlicense: mit\n---\n# tiny\n",
    }
    root = repo(tmp_path / "r", files)
    (root / "base.safetensors").write_bytes(lfs_pointer(b"elsewhere"))
    result = run_audit(str(root), Options(checksums=BOTH))
    got = digests_of(result.inventory)
    assert {n: got[n] for n in files} == {n: expected(d) for n, d in files.items()}
    assert got["base.safetensors"] == {
        "sha1": None,
        "sha256": hashlib.sha256(b"elsewhere").hexdigest(),
    }
    plain = run_audit(str(root))
    assert all(f.sha1 is None for f in plain.inventory.files)
