"""``auditor check FILES``: audit what a commit changes, fast, and report what concerns it.

A pre-commit hook must answer in a fraction of a second and must still be right:
a commit that adds weights without a model license is blocked although no license
file changed, and the commit that adds the license passes. So the check is a
``run_audit`` over a source that lists the whole tree but reads only part of it
(docs/precommit.md):

* **Listed, not read**: every file of the git index (``git ls-files``: what the
  commit will hold, not untracked or ignored files), or of the folder when it is
  no git work tree. Listing is a ``stat`` per file, so components know every
  weight, config and code file, and a finding names the same file ``auditor
  scan`` names (the baseline's fingerprints depend on it).
* **Read** (``ChangedSource.reads``): the changed files, and the files that
  decide licenses: license, notice, README / model card and config files and
  the package metadata (``pyproject.toml``, ``setup.cfg``, ``setup.py``,
  ``package.json``). Any other file is never opened: no weight header, no SPDX
  header of unchanged code, no hashing.
* **Relevant findings** (``relevant``): a finding counts when it names a changed
  file (its path or evidence), when it belongs to a component that holds a
  changed file (added weights make the model's ``license-missing`` relevant),
  or, when a changed file decides licenses for the whole repo (a license,
  notice or README file, the policy or the baseline), every finding does.
* **Confirmed** (``check``): the fast pass can see too little (code licensed
  only by SPDX tags of files it did not read, a model licensed only in a
  weights header), so when it finds something relevant at or above the
  threshold, the repo is audited again with every listed file read (bounded
  header reads, still no hashing) and the relevant findings of that audit are
  the answer. A commit is blocked only by what ``auditor scan`` would find, and
  only a blocked commit pays for the full audit.

Files the index deletes count as changed (pre-commit passes only existing files,
and deleting ``LICENSE-MODEL`` must not slip through).
"""

from __future__ import annotations

import logging
import os
import posixpath
import stat
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from auditor.classify import kind_from_name
from auditor.detectors.package_metadata import FILE_NAMES as PACKAGE_METADATA
from auditor.gitrepo import run_git
from auditor.ignore import Ignores
from auditor.model import (
    AuditResult,
    FileEntry,
    FileKind,
    Finding,
    Severity,
    Skipped,
)
from auditor.policy import POLICY_FILE, Policy
from auditor.sources import os_reason
from auditor.sources.local import LocalSource, utf8_name
from auditor.weights import ReadAt

log = logging.getLogger(__name__)

#: Kinds read on every check, changed or not: they state which license covers what.
CONTEXT_KINDS = frozenset({FileKind.LICENSE, FileKind.NOTICE, FileKind.README, FileKind.CONFIG})
#: Kinds whose change makes every finding of the repo relevant: they speak for all of it.
DECIDING_KINDS = frozenset({FileKind.LICENSE, FileKind.NOTICE, FileKind.README})
NOT_READ = "not read by auditor check: unchanged, and it states no license of the repo"
NOT_IN_TREE = "in the git index but not in the working tree"


def _paths(output: bytes) -> list[str]:
    # Names are bytes to git: undecodable ones keep their bytes (surrogateescape) and
    # are reported by the inventory as not valid UTF-8, as the folder walk does.
    names = (p.decode("utf-8", "surrogateescape") for p in output.split(b"\0") if p)
    return list(dict.fromkeys(names))


def git_listing(root: Path) -> list[str] | None:
    """The files of the git index under ``root``, relative to it; None outside a work tree.

    The index is what the commit will hold: untracked and ignored files (a local
    virtualenv, downloaded checkpoints) are not part of it, and a license file not
    yet added does not license anything."""
    out = run_git(root, "ls-files", "-z", "--cached")
    if out is None:
        return None
    return _paths(out)


def staged_deletions(root: Path) -> list[str]:
    """Files under ``root`` that the index deletes (relative to HEAD); none without a HEAD."""
    args = ["--cached", "--relative", "--name-only", "-z", "--no-renames", "--diff-filter=D"]
    args += ["--no-ext-diff", "--no-textconv"]
    out = run_git(root, "diff-index", *args, "HEAD")
    return _paths(out) if out else []


def is_context(path: str) -> bool:
    """Whether ``path`` is read on every check: license, notice, README/card, config,
    package metadata."""
    return kind_from_name(path) in CONTEXT_KINDS or posixpath.basename(path) in PACKAGE_METADATA


class ChangedSource(LocalSource):
    """A local repository of which only the changed files and the context are read.

    ``listing`` (repo-relative paths, e.g. the git index) replaces the folder walk;
    None walks the folder as ``LocalSource`` does. ``read_all`` reads every listed
    file, as ``auditor scan`` would (the confirming pass). ``opened`` records every
    path whose bytes were asked for, for tests and benchmarks.
    """

    def __init__(
        self,
        target: str,
        changed: Iterable[str] = (),
        *,
        listing: Sequence[str] | None = None,
        read_all: bool = False,
    ) -> None:
        super().__init__(target)
        self.changed = frozenset(changed)
        self.listing = listing
        self.read_all = read_all
        self.opened: set[str] = set()

    def reads(self, path: str) -> bool:
        return self.read_all or path in self.changed or is_context(path)

    @contextmanager
    def reader(self, path: str) -> Iterator[ReadAt]:
        self.opened.add(path)
        with super().reader(path) as read_at:
            yield read_at

    def _entry(self, path: str, size: int) -> tuple[FileEntry, Skipped | None]:
        if self.reads(path):
            return super()._entry(path, size)
        # Classified by name; listed in ``skipped`` so that no detector reads it.
        return FileEntry(path, size, kind_from_name(path)), Skipped(path, NOT_READ)

    def _files(self, skipped: list[Skipped], ignores: Ignores) -> Iterator[tuple[str, int]]:
        if self.listing is None:
            yield from super()._files(skipped, ignores)
            return
        for path in sorted(set(self.listing)):
            if not utf8_name(path, skipped):
                continue
            try:
                st = os.lstat(self._location(path))
            except FileNotFoundError:
                skipped.append(Skipped(path, NOT_IN_TREE))
                continue
            except OSError as exc:
                skipped.append(Skipped(path, f"cannot read: {os_reason(exc)}"))
                continue
            if stat.S_ISLNK(st.st_mode):
                size = self._symlink(path, skipped)
                if size is not None:
                    yield path, size
            elif stat.S_ISREG(st.st_mode):
                yield path, st.st_size
            # a directory is a submodule (its own repository): not this audit's


# -- which findings concern the change ----------------------------------------------------


def deciding(changed: Iterable[str], policy_files: Iterable[str] = ()) -> tuple[str, ...]:
    """The changed files whose change concerns every finding: license, notice and README
    files, and the policy and baseline files in use."""
    own = set(policy_files) | {POLICY_FILE}
    return tuple(sorted(p for p in changed if p in own or kind_from_name(p) in DECIDING_KINDS))


def _components(finding: Finding, result: AuditResult) -> set[str]:
    """The components a finding is about: its own, or (a finding over several, such as a
    declared license without its text) those whose declared licenses carry its evidence."""
    if finding.component is not None:
        return {finding.component}
    evidence = set(finding.evidence)
    return {
        c.name
        for c in result.components
        if any(e in evidence for d in c.declared for e in d.evidence)
    }


def concerns(finding: Finding, result: AuditResult, changed: frozenset[str]) -> tuple[str, ...]:
    """The changed files ``finding`` concerns: those it names (path, evidence) and the
    changed files of the components it is about; empty when it concerns none."""
    named = {finding.path, *(e.path for e in finding.evidence)}
    about = _components(finding, result)
    held = {p for c in result.components if c.name in about for p in c.files}
    return tuple(sorted(p for p in named | held if p is not None and p in changed))


def relevant(
    result: AuditResult, changed: frozenset[str], everything: bool = False
) -> tuple[Finding, ...]:
    """The findings of ``result`` that concern the changed files (all when ``everything``)."""
    if everything:
        return result.findings
    return tuple(f for f in result.findings if concerns(f, result, changed))


# -- the check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` found and how: the audit its findings come from, and what it read."""

    #: The audit the findings come from (the confirming one when there was one).
    result: AuditResult
    #: The findings that concern the changed files, worst first.
    findings: tuple[Finding, ...]
    #: Repo-relative paths of the changed files (deletions included).
    changed: frozenset[str]
    #: The changed files that made every finding relevant.
    deciding: tuple[str, ...]
    #: Whether the fast pass found something at or above the threshold, so that every
    #: file was read to confirm it.
    confirmed: bool
    #: Files listed; files whose bytes the fast pass read.
    listed: int
    read: tuple[str, ...]
    #: Where the listing came from: "git index" or "folder".
    listing: str


def _policy_paths(root: Path, policy: Policy) -> list[str]:
    """The policy and baseline files as repo-relative paths, when they are in the repo."""
    out = []
    for where in (policy.source, policy.baseline):
        if where is None:
            continue
        rel = os.path.relpath(os.path.realpath(where), root)
        if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
            out.append(rel.replace(os.sep, "/"))
    return out


def check(
    root: Path,
    changed: Iterable[str],
    policy: Policy,
    threshold: Severity | None,
) -> CheckResult:
    """Audit ``root`` reading only ``changed`` and the context; confirm by a full read when
    something relevant reaches ``threshold`` (None: never confirm, as ``--fail-on never``)."""
    from auditor.pipeline import Options, run_audit

    root = root.resolve()
    listing = git_listing(root) or None  # an empty index (or none): walk the folder
    changed_set = set(changed)
    if listing is not None:
        # a named file git does not track (``pre-commit run --files new.txt``) is still
        # audited when it exists; a file the index deletes is not, though it may exist
        deleted = set(staged_deletions(root))
        untracked = changed_set - set(listing) - deleted
        listing = listing + sorted(p for p in untracked if os.path.lexists(root / p))
        changed_set |= deleted
    changed_fs = frozenset(changed_set)
    policy_paths = _policy_paths(root, policy)
    all_of_it = deciding(changed_fs, policy_paths)
    options = Options(policy=policy)
    fast = ChangedSource(str(root), changed_fs, listing=listing)
    result = run_audit(fast, options)
    found = relevant(result, changed_fs, bool(all_of_it))
    log.info(
        "check: %d changed, %d listed (%s), %d read, %d relevant findings",
        len(changed_fs),
        len(result.inventory.files),
        "folder" if listing is None else "git index",
        len(fast.opened),
        len(found),
    )
    confirm = threshold is not None and any(f.severity.rank >= threshold.rank for f in found)
    if confirm:
        full = ChangedSource(str(root), changed_fs, listing=listing, read_all=True)
        result = run_audit(full, options)
        found = relevant(result, changed_fs, bool(all_of_it))
        log.info("check: confirmed with every file read: %d relevant findings", len(found))
    return CheckResult(
        result=result,
        findings=found,
        changed=changed_fs,
        deciding=all_of_it,
        confirmed=confirm,
        listed=len(result.inventory.files),
        read=tuple(sorted(fast.opened)),
        listing="folder" if listing is None else "git index",
    )
