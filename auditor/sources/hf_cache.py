"""The local Hugging Face Hub cache: snapshots huggingface_hub downloaded, audited offline.

Target grammar (docs/sources.md):

- ``hf-cache://``: every cached model repo of the default cache (``HF_HUB_CACHE``,
  else ``HF_HOME/hub``, else ``~/.cache/huggingface/hub``), expanded by ``expand``;
- ``hf-cache:///ABS/DIR``: every cached model repo of the cache at ``/ABS/DIR``;
- ``hf-cache://ORG/NAME[@REV]``: one repo of the default cache
  (``hf-cache://datasets/ORG/NAME``, ``hf-cache://spaces/ORG/NAME`` for the other
  repo types); REV is a ref the cache recorded (``main``, ``refs/pr/1``) or a
  commit sha (or a unique prefix of 7 or more hex digits);
- ``hf-cache:///ABS/DIR/models--ORG--NAME[@REV]``: one repo of the cache at
  ``/ABS/DIR`` (what ``hf-cache:///ABS/DIR`` expands to).

Without REV a repo is read at the snapshot ``refs/main`` names; a repo without
one at its only snapshot, else at its most recently written one (with a warning).

The layout is ``models--ORG--NAME/{blobs,refs,snapshots/<commit>/...}``: snapshot
files are relative symlinks into ``../../blobs``. They are followed although they
leave the snapshot folder, never when they leave the repo's cache folder. A blob
named by 64 hex digits is a Git LFS file named by its content's sha256: the
entry carries it, so the checksum stage never rehashes a weight for it (a
40-hex name is a git blob id, not a digest of the content, and is not used).
A snapshot holds only what was downloaded: a link whose blob is gone, and a
shard an ``*.index.json`` names that is not there, are listed as skipped.
Nothing here imports huggingface_hub or touches the network.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import posixpath
import re
from dataclasses import dataclass, replace
from pathlib import Path

from auditor.errors import SourceError, UsageError
from auditor.model import FileEntry, Inventory, Skipped
from auditor.safeio import read_regular, within
from auditor.sources import SOURCES, entries_sorted, os_reason
from auditor.sources.local import LocalSource, linked_file_size

log = logging.getLogger(__name__)

PREFIX = "hf-cache://"
#: Repo types as the cache names their folders (``models--ORG--NAME``).
REPO_TYPES = ("models", "datasets", "spaces")
#: The repo type a whole-cache target expands to.
EXPANDED_TYPE = "models"
_FOLDER = re.compile(r"^(models|datasets|spaces)--(.+)$")
_ID_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: ``*.index.json`` files larger than this are not read for the shards they name.
INDEX_LIMIT = 16 << 20


def default_cache() -> Path:
    """The cache huggingface_hub uses: ``HF_HUB_CACHE``, else ``HF_HOME/hub``, else
    ``~/.cache/huggingface/hub``.

    Computed from the environment as huggingface_hub's ``constants`` do (also the
    legacy ``HUGGINGFACE_HUB_CACHE`` and ``XDG_CACHE_HOME``), without importing it.
    """
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(os.path.expandvars(os.path.expanduser(explicit)))
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "huggingface",
    )
    return Path(os.path.expandvars(os.path.expanduser(home))) / "hub"


@dataclass(frozen=True)
class CacheTarget:
    """A parsed ``hf-cache://`` target."""

    cache: Path
    #: The cache came from the environment (targets print as ``hf-cache://ORG/NAME``).
    default: bool
    #: ``models--ORG--NAME``; None for the whole cache.
    folder: str | None = None
    rev: str | None = None

    @property
    def repo_id(self) -> str:
        """``ORG/NAME``, ``datasets/ORG/NAME`` for other repo types; "" for the whole cache."""
        match = _FOLDER.match(self.folder or "")
        if match is None:
            return ""
        kind, name = match.groups()
        return ("" if kind == "models" else f"{kind}/") + name.replace("--", "/")

    def repo_target(self, folder: str) -> str:
        """The target naming the repo ``folder`` of this cache."""
        if self.default:
            return PREFIX + CacheTarget(self.cache, True, folder).repo_id
        return f"{PREFIX}{self.cache}/{folder}"


def parse_target(target: str) -> CacheTarget:
    """Parse an ``hf-cache://`` target (UsageError when it is not one this source reads)."""
    if not target.startswith(PREFIX):
        raise UsageError(f"not a Hugging Face cache target: {target}")
    rest = target[len(PREFIX) :]
    if not rest:
        return CacheTarget(default_cache(), True)
    if rest.startswith("/"):
        path, rev = rest, None
        if not os.path.lexists(path) and "@" in path:
            path, rev = path.rsplit("@", 1)
        where = Path(path)
        if _FOLDER.match(where.name):
            return CacheTarget(where.parent, False, where.name, _rev(rev, target))
        if rev is not None:
            raise UsageError(
                f"{target}: @REV needs a repository (hf-cache:///DIR/models--ORG--NAME@REV)"
            )
        return CacheTarget(where, False)
    kind = "models"
    for prefix in REPO_TYPES:
        if rest.startswith(prefix + "/"):
            kind, rest = prefix, rest[len(prefix) + 1 :]
            break
    repo_id, at, rev_text = rest.partition("@")
    parts = repo_id.split("/")
    if not (
        1 <= len(parts) <= 2
        and all(_ID_PART.fullmatch(p) and "--" not in p and ".." not in p for p in parts)
    ):
        raise UsageError(
            f"not a Hugging Face repo id: {repo_id!r} in {target} "
            "(expected hf-cache://ORG/NAME[@REV], or hf-cache:///ABS/DIR for a cache folder)"
        )
    folder = f"{kind}--" + "--".join(parts)
    return CacheTarget(default_cache(), True, folder, _rev(rev_text if at else None, target))


def _rev(rev: str | None, target: str) -> str | None:
    if rev is None:
        return None
    if not rev or rev.startswith("/") or ".." in rev.split("/") or "\\" in rev:
        raise UsageError(f"{target}: not a revision: {rev!r}")
    return rev


def _snapshots(repo_dir: Path) -> list[str]:
    try:
        with os.scandir(repo_dir / "snapshots") as it:
            return sorted(d.name for d in it if d.is_dir(follow_symlinks=False))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise SourceError(f"cannot list {repo_dir / 'snapshots'}: {os_reason(exc)}") from exc


def _read_ref(repo_dir: Path, name: str) -> str | None:
    """The commit sha ``refs/NAME`` holds; None when there is no such ref."""
    try:  # a regular file of a few bytes: never through a symlink, never a FIFO or device
        text = read_regular(repo_dir / "refs" / name, 100).decode("ascii", "replace").strip()
    except OSError:
        return None
    return text if _COMMIT.fullmatch(text) else None


def resolve(repo_dir: Path, rev: str | None, shown: str) -> str:
    """The snapshot (commit sha) of ``repo_dir`` that ``rev`` names; UsageError when none."""
    available = _snapshots(repo_dir)
    if not available:
        raise UsageError(f"{shown}: no snapshot in the cache ({repo_dir})")
    if rev is None:
        main = _read_ref(repo_dir, "main")
        if main in available:
            return main
        if len(available) == 1:
            return available[0]
        newest = max(available, key=lambda s: ((repo_dir / "snapshots" / s).stat().st_mtime_ns, s))
        log.warning(
            "%s: no main ref; auditing snapshot %s, the most recently written of %d "
            "(name another with @REV)",
            shown,
            newest,
            len(available),
        )
        return newest
    if _COMMIT.fullmatch(rev) and rev in available:
        return rev
    ref = _read_ref(repo_dir, rev)
    if ref is not None:
        if ref in available:
            return ref
        raise UsageError(f"{shown}: ref {rev} names snapshot {ref}, which is not in the cache")
    if re.fullmatch(r"[0-9a-f]{7,39}", rev):
        matches = [s for s in available if s.startswith(rev)]
        if len(matches) == 1:
            return matches[0]
    cached = ", ".join(s[:12] for s in available)
    raise UsageError(f"{shown}: no revision {rev} in the cache (snapshots: {cached})")


def expand(target: str) -> list[str]:
    """The targets ``target`` stands for: one per cached model repo for a whole-cache
    ``hf-cache://`` target (sorted), else ``[target]`` itself."""
    if not target.startswith(PREFIX):
        return [target]
    spec = parse_target(target)
    if spec.folder is not None:
        return [target]
    if not spec.cache.is_dir():
        raise UsageError(f"no Hugging Face cache at {spec.cache}")
    try:
        with os.scandir(spec.cache) as it:
            folders = sorted(
                d.name
                for d in it
                if d.name.startswith(EXPANDED_TYPE + "--") and d.is_dir(follow_symlinks=False)
            )
    except OSError as exc:
        raise SourceError(f"cannot list {spec.cache}: {os_reason(exc)}") from exc
    targets: list[str] = []
    for folder in folders:
        if _snapshots(spec.cache / folder):
            targets.append(spec.repo_target(folder))
        else:
            log.warning("%s: no snapshot (a download in progress?), not audited", folder)
    if not targets:
        raise UsageError(f"no model repository in the Hugging Face cache at {spec.cache}")
    return targets


@SOURCES.register("hf-cache")
class HfCacheSource(LocalSource):
    """One snapshot of one cached repo: the local walk, with the cache's symlinks followed."""

    def __init__(self, target: str) -> None:
        spec = parse_target(target)
        if spec.folder is None:
            raise UsageError(
                f"{target} names every repository of the cache at {spec.cache}: "
                "name one (hf-cache://ORG/NAME), or let `auditor scan` audit each"
            )
        shown = spec.repo_id
        if not spec.cache.is_dir():
            raise UsageError(f"no Hugging Face cache at {spec.cache}")
        repo_dir = spec.cache / spec.folder
        if not repo_dir.is_dir():
            raise UsageError(f"{shown} is not in the Hugging Face cache at {spec.cache}")
        self.revision = resolve(repo_dir, spec.rev, shown)
        super().__init__(str(repo_dir / "snapshots" / self.revision))
        self.target = target
        self.repo_id = shown
        self.repo_dir = repo_dir.resolve()
        self._blobs = self.repo_dir / "blobs"
        #: path -> the file it reads (the blob a snapshot link leads to)
        self._real: dict[str, Path] = {}

    @property
    def name(self) -> str:
        return self.repo_id.rsplit("/", 1)[-1]

    @property
    def download_location(self) -> str | None:
        """The Hub page the snapshot was downloaded from."""
        return f"https://huggingface.co/{self.repo_id}"

    @classmethod
    def accepts(cls, target: str) -> bool:
        return target.startswith(PREFIX)

    def _inside(self, real: Path) -> bool:
        return real == self.repo_dir or self.repo_dir in real.parents

    def _readable(self, location: Path) -> bool:
        return within(self.repo_dir, location)

    def _symlink(self, path: str, skipped: list[Skipped]) -> int | None:
        location = self._location(path)
        real = Path(os.path.realpath(location))
        if not self._inside(real):
            skipped.append(
                Skipped(path, "symlink points outside the repository's cache folder, not followed")
            )
            return None
        try:
            st = os.stat(real)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                link = os.readlink(location)
                skipped.append(Skipped(path, f"not downloaded: broken symlink -> {link}"))
            else:
                skipped.append(Skipped(path, os_reason(exc)))
            return None
        size = linked_file_size(path, st, skipped)
        if size is not None:
            self._real[path] = real
        return size

    def _file(self, path: str) -> Path:
        """The file ``path`` reads; OSError for a link that leaves the repo's cache folder."""
        known = self._real.get(path)
        if known is not None:
            return known
        location = self._location(path)
        real = Path(os.path.realpath(location))
        if not self._inside(real):
            raise OSError(errno.EACCES, "symlink points outside the repository's cache folder")
        return real

    def inventory(self) -> Inventory:
        walked = super().inventory()
        files: list[FileEntry] = []
        for entry in walked.files:
            real = self._real.get(entry.path)
            if (
                real is not None
                and real.parent == self._blobs
                and _SHA256.fullmatch(real.name)
                and not entry.lfs
                and entry.sha256 is None
            ):
                entry = replace(entry, sha256=real.name)  # an LFS blob is named by its sha256
            files.append(entry)
        skipped = [*walked.skipped, *self._missing_shards(files, walked.skipped)]
        f, s = entries_sorted(files, skipped)
        return Inventory(root=PREFIX + self.repo_id, revision=self.revision, files=f, skipped=s)

    def _missing_shards(
        self, files: list[FileEntry], skipped: tuple[Skipped, ...]
    ) -> list[Skipped]:
        """Weight shards an ``*.index.json`` names that the snapshot does not hold."""
        known = {f.path for f in files} | {s.path for s in skipped}
        out: list[Skipped] = []
        for entry in files:
            if not entry.path.endswith(".index.json") or entry.size > INDEX_LIMIT:
                continue
            try:
                data = json.loads(self.read_bytes(entry.path, INDEX_LIMIT)[0])
            except (OSError, ValueError, RecursionError):
                continue
            weight_map = data.get("weight_map") if isinstance(data, dict) else None
            if not isinstance(weight_map, dict):
                continue
            folder = posixpath.dirname(entry.path)
            for shard in sorted({v for v in weight_map.values() if isinstance(v, str)}):
                path = posixpath.normpath(posixpath.join(folder, shard))
                if path.startswith(("../", "/")) or path == ".." or path in known:
                    continue
                known.add(path)
                out.append(
                    Skipped(path, f"not downloaded: named by {entry.path}, not in the cache")
                )
        return out
