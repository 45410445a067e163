"""A repository's license policy: allowed and denied licenses, severities, ignores, a baseline.

The policy lives in ``.auditor.toml`` at the repo root (keys at top level) or in
``[tool.auditor]`` of the root ``pyproject.toml``; ``.auditor.toml`` wins. The
pipeline calls ``Policy.filter`` on the inventory before anything reads a file
and ``Policy.apply`` on the result after the checks ran. Every mistake in a
policy file is a ``UsageError`` of one line naming the file and the line, so
that a typo never passes silently as "no policy". Format: docs/policy.md.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import re2

from auditor.baseline import read_baseline
from auditor.checks import RULES
from auditor.errors import UsageError
from auditor.model import (
    AuditResult,
    Component,
    Evidence,
    Finding,
    Inventory,
    LicenseDetection,
    Severity,
    fingerprint,
)
from auditor.safeio import read_regular
from auditor.signatures import catalog, label, license_keys

if sys.version_info >= (3, 11):
    import tomllib
else:  # tomllib is stdlib from 3.11 on; tomli is the same parser for 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

POLICY_FILE = ".auditor.toml"
PYPROJECT = "pyproject.toml"
FAIL_ON = ("error", "warning", "note", "never")
SEVERITIES = ("error", "warning", "note", "off")
KEYS = ("allow", "baseline", "deny", "fail-on", "ignore", "severity")

DENIED_FIX = "replace the component, or change the policy's deny list"
NOT_ALLOWED_FIX = "replace the component, or change the policy's allow list"
UNCONCLUDED_FIX = (
    "make the component's license clear (see its other findings), "
    "or replace the component, or change the policy's allow list"
)


# -- ignore patterns -----------------------------------------------------------------------


def _segment_regex(segment: str) -> str:
    out = []
    for ch in segment:
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


#: The longest ignore pattern a policy may give (real ones are a few dozen characters).
MAX_PATTERN = 1000


@dataclass(frozen=True)
class _Glob:
    # RE2, not re: matching is linear in the path, where Python's backtracking engine
    # takes hours for "**/**/**/.../b" or "*a*a*a...b" on a deep path.
    regex: Any
    anchored: bool  # the pattern has a "/" inside: it matches from the repo root
    dir_only: bool  # the pattern ended with "/": it matches folders only

    def matches(self, path: str) -> bool:
        parts = path.split("/")
        if not self.anchored:
            names = parts[:-1] if self.dir_only else parts
            return any(self.regex.fullmatch(name) for name in names)
        ends = range(1, len(parts)) if self.dir_only else range(1, len(parts) + 1)
        return any(self.regex.fullmatch("/".join(parts[:end])) for end in ends)


@cache
def _glob(pattern: str) -> _Glob:
    """gitignore-like: ``*``, ``?`` within a name, ``**`` across folders, ``dir/`` for folders.

    A match on a folder ignores everything below it.
    """
    dir_only = pattern.endswith("/")
    body = pattern.rstrip("/")
    anchored = "/" in body
    body = body.lstrip("/")
    segments = body.split("/")
    out = []
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
        else:
            out.append(_segment_regex(seg) + ("" if last else "/"))
    return _Glob(re2.compile("".join(out)), anchored, dir_only)


# -- license names -------------------------------------------------------------------------


@cache
def _group_names() -> frozenset[str]:
    """Every catalog ``family`` and ScanCode ``category``, lower case."""
    cat = catalog()
    names: set[str] = set()
    for key in cat:
        info = cat.get(key)
        names.update(n.lower() for n in (info.family, info.category) if n)
    return frozenset(names)


def resolve_name(name: str) -> str | None:
    """A policy entry as a license key (``mit``, from ``MIT`` too) or a lower-case family
    or category name (``llama``, ``copyleft``); None when it names nothing known."""
    cat = catalog()
    low = name.strip().lower()
    if low in cat:
        return low
    key = cat.by_spdx(low)
    if key is not None:
        return key
    return low if low in _group_names() else None


def _entry_matches(entry: str, key: str) -> bool:
    if entry == key:
        return True
    cat = catalog()
    if key not in cat:
        return False
    info = cat.get(key)
    return entry in {n.lower() for n in (info.family, info.category) if n}


# -- the policy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """What one repository accepts. ``Policy()`` changes nothing.

    ``allow`` and ``deny`` hold license keys and lower-case family or category
    names; ``severities`` pairs of rule id and ``error``/``warning``/``note``/``off``.
    ``baseline`` is the baseline file; ``baseline_fingerprints`` what it holds once
    read (None: not read yet, ``apply`` reads it).
    """

    source: str | None = None
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    severities: tuple[tuple[str, str], ...] = ()
    ignore: tuple[str, ...] = ()
    baseline: Path | None = None
    fail_on: str | None = None
    baseline_fingerprints: frozenset[str] | None = field(default=None, repr=False)

    def with_baseline(self, path: Path | None) -> Policy:
        """This policy with ``path`` as its baseline, read now (None: no baseline)."""
        if path is None:
            return replace(self, baseline=None, baseline_fingerprints=None)
        return replace(self, baseline=path, baseline_fingerprints=read_baseline(path))

    def severity_of(self, rule: str, default: Severity) -> Severity | None:
        """The severity a finding of ``rule`` gets under this policy; None when it is off."""
        for name, value in self.severities:
            if name == rule:
                return None if value == "off" else Severity(value)
        return default

    def ignores(self, path: str) -> bool:
        """True when a repo-relative path matches an ``ignore`` pattern (or is below one)."""
        path = path.replace("\\", "/").removeprefix("./").strip("/")
        return bool(path) and any(_glob(p).matches(path) for p in self.ignore)

    def filter(self, inventory: Inventory) -> Inventory:
        """The inventory without ignored files, and without skipped entries for them."""
        if not self.ignore:
            return inventory
        return replace(
            inventory,
            files=tuple(f for f in inventory.files if not self.ignores(f.path)),
            skipped=tuple(s for s in inventory.skipped if not self.ignores(s.path)),
        )

    def denied_by(self, key: str) -> str | None:
        """The deny entry that ``key`` matches, or None."""
        return next((e for e in self.deny if _entry_matches(e, key)), None)

    def allows(self, key: str) -> bool:
        """True when there is no allow list, or ``key`` matches an entry of it."""
        return not self.allow or any(_entry_matches(e, key) for e in self.allow)

    def apply(self, result: AuditResult) -> AuditResult:
        """Add allow/deny findings, apply severities, move baselined findings to accepted."""
        findings: list[Finding] = [*result.findings, *self._license_findings(result)]
        kept: list[Finding] = []
        for f in findings:
            severity = self.severity_of(f.rule, f.severity)
            if severity is not None:
                kept.append(f if severity is f.severity else replace(f, severity=severity))
        accepted = list(result.accepted)
        fps = self.baseline_fingerprints
        if fps is None and self.baseline is not None:
            fps = read_baseline(self.baseline)
        if fps:
            accepted += [f for f in kept if fingerprint(f) in fps]
            kept = [f for f in kept if fingerprint(f) not in fps]
        return replace(
            result,
            findings=tuple(sorted(kept, key=_order)),
            accepted=tuple(sorted(accepted, key=_order)),
        )

    def _license_findings(self, result: AuditResult) -> Iterator[Finding]:
        if not (self.allow or self.deny):
            return
        for comp in result.components:
            yield from self._component_findings(comp)

    def _component_findings(self, comp: Component) -> Iterator[Finding]:
        kind = comp.kind.value
        concluded = license_keys(comp.concluded)
        stated = [d for d in comp.declared if not d.is_clue]
        denied: set[str] = set()
        for key in concluded + [d.key for d in stated]:
            entry = self.denied_by(key)
            if entry is None or key in denied:
                continue
            denied.add(key)
            how = "is licensed under" if key in concluded else "declares"
            path, evidence = _where(d for d in stated if d.key == key)
            yield self._finding(
                "license-denied",
                f"{kind} component {how} {label(key)}, which the policy denies ({entry!r} in deny)",
                comp,
                path,
                evidence,
                DENIED_FIX,
            )
        if not self.allow:
            return
        if comp.concluded is None:
            path, evidence = _where(comp.declared)
            yield self._finding(
                "license-not-allowed",
                f"{kind} component's license could not be concluded, so it cannot be "
                "checked against the policy's allow list",
                comp,
                path,
                evidence,
                UNCONCLUDED_FIX,
            )
            return
        for key in concluded:
            if key in denied or self.allows(key):
                continue
            path, evidence = _where(d for d in stated if d.key == key)
            yield self._finding(
                "license-not-allowed",
                f"{kind} component is licensed under {label(key)}, which is not in the "
                "policy's allow list",
                comp,
                path,
                evidence,
                NOT_ALLOWED_FIX,
            )

    @staticmethod
    def _finding(
        rule: str,
        message: str,
        comp: Component,
        path: str | None,
        evidence: tuple[Evidence, ...],
        fix: str,
    ) -> Finding:
        return Finding(
            rule=rule,
            severity=RULES[rule],
            message=message,
            path=path,
            component=comp.name,
            evidence=evidence,
            fix=fix,
        )


def _where(detections: Iterable[LicenseDetection]) -> tuple[str | None, tuple[Evidence, ...]]:
    """The first evidence path of some detections, and all their evidence."""
    evidence: list[Evidence] = []
    for det in detections:
        evidence.extend(e for e in det.evidence if e not in evidence)
    return (evidence[0].path if evidence else None), tuple(evidence)


def _order(f: Finding) -> tuple[int, str, str, str]:
    return (-f.severity.rank, f.rule, f.path or "", f.message)


# -- reading a policy file -----------------------------------------------------------------


class _Locator:
    """Finds the line a policy key or entry is written on, for error messages.

    Not a TOML parser: good enough for ``key = ...``, dotted keys, ``[severity]``
    tables, inline tables and lists over several lines, within the policy's table(s).
    """

    HEADER = re.compile(r"^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(?:#.*)?$")

    def __init__(self, text: str, section: tuple[str, ...]) -> None:
        self.section = section
        #: (line number, the table the line is in, whether it is that table's header, line)
        self.region: list[tuple[int, tuple[str, ...], bool, str]] = []
        table: tuple[str, ...] = ()
        for n, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue
            m = self.HEADER.match(line)
            if m:
                table = tuple(p.strip().strip("\"'") for p in m.group(1).split("."))
            if table[: len(section)] == section:
                self.region.append((n, table, m is not None, line))

    def start(self) -> int:
        """The policy table's header line (1 for a whole-file policy)."""
        return self.region[0][0] if self.region else 1

    def line_of(self, key: str, entry: str | None = None) -> int:
        """The line of ``key``, or of ``entry`` (a list item or sub-key) within its value."""
        k = re.escape(key)
        key_re = re.compile(rf"(?:^|[\s{{,])[\"']?{k}[\"']?\s*[=.]")
        found = next(
            (
                n
                for n, table, header, line in self.region
                if (header and table == (*self.section, key))
                or (not header and table == self.section and key_re.search(line))
            ),
            None,
        )
        if found is None:
            return self.start()
        if entry is None:
            return found
        e = re.escape(entry)
        entry_re = re.compile(
            rf"[\"']{e}[\"']|(?:^|[\s{{,.])[\"']?{e}[\"']?\s*=" if entry else r"\"\"|''"
        )
        return next(
            (n for n, _, _, line in self.region if n >= found and entry_re.search(line)), found
        )


def _toml_line(message: str, text: str) -> int:
    m = re.search(r"at line (\d+)", message)
    if m:
        return int(m.group(1))
    return max(1, text.count("\n") + (0 if text.endswith("\n") else 1))


class _Reader:
    """Validates one policy table; every error names the file and line."""

    def __init__(self, path: Path, text: str, section: tuple[str, ...]) -> None:
        self.path = path
        self.where = _Locator(text, section)

    def error(self, message: str, key: str | None = None, entry: str | None = None) -> UsageError:
        line = self.where.line_of(key, entry) if key is not None else self.where.start()
        return UsageError(f"{self.path}:{line}: {message}")

    def strings(self, table: dict[str, Any], key: str) -> list[str]:
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"{key} must be a list of strings", key)
        return list(value)

    def string(self, table: dict[str, Any], key: str) -> str:
        value = table[key]
        if not isinstance(value, str):
            raise self.error(f"{key} must be a string", key)
        return value

    def names(self, table: dict[str, Any], key: str) -> tuple[str, ...]:
        out: list[str] = []
        for name in self.strings(table, key):
            resolved = resolve_name(name)
            if resolved is None:
                raise self.error(
                    f"unknown license or family {name!r} in {key} (use a license key such "
                    "as 'mit', an SPDX id such as 'Apache-2.0', a family such as "
                    f"'llama', or a category such as 'Copyleft'; families: "
                    f"{', '.join(sorted(_group_names()))})",
                    key,
                    name,
                )
            if resolved not in out:
                out.append(resolved)
        return tuple(out)

    def severities(self, table: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        value = table["severity"]
        if not isinstance(value, dict):
            raise self.error("severity must be a table of rule = severity", "severity")
        out: list[tuple[str, str]] = []
        for rule, sev in value.items():
            if rule not in RULES:
                raise self.error(
                    f"unknown rule {rule!r} in severity (known: {', '.join(sorted(RULES))})",
                    "severity",
                    rule,
                )
            if sev not in SEVERITIES:
                raise self.error(
                    f"unknown severity {sev!r} for {rule} in severity "
                    f"(known: {', '.join(SEVERITIES)})",
                    "severity",
                    rule,
                )
            out.append((rule, sev))
        return tuple(sorted(out))

    def patterns(self, table: dict[str, Any]) -> tuple[str, ...]:
        out: list[str] = []
        for pattern in self.strings(table, "ignore"):
            if not pattern.strip("/").strip():
                raise self.error(f"empty pattern {pattern!r} in ignore", "ignore", pattern)
            if pattern.startswith("!"):
                raise self.error(
                    f"negated pattern {pattern!r} in ignore is not supported", "ignore", pattern
                )
            if "\\" in pattern:
                raise self.error(
                    f"pattern {pattern!r} in ignore: use '/' between folders", "ignore", pattern
                )
            if len(pattern) > MAX_PATTERN:
                raise self.error(
                    f"pattern in ignore over {MAX_PATTERN} characters", "ignore", pattern[:40]
                )
            out.append(pattern)
        return tuple(out)

    def policy(self, table: dict[str, Any]) -> Policy:
        for key in table:
            if key not in KEYS:
                raise self.error(f"unknown key {key!r} (known: {', '.join(KEYS)})", key)
        allow = self.names(table, "allow") if "allow" in table else ()
        deny = self.names(table, "deny") if "deny" in table else ()
        both = next((n for n in deny if n in allow), None)
        if both is not None:
            raise self.error(f"{both!r} is both allowed and denied", "deny", _spelling(table, both))
        fail_on = None
        if "fail-on" in table:
            fail_on = self.string(table, "fail-on")
            if fail_on not in FAIL_ON:
                raise self.error(
                    f"unknown fail-on {fail_on!r} (known: {', '.join(FAIL_ON)})", "fail-on"
                )
        baseline = None
        if "baseline" in table:
            name = self.string(table, "baseline")
            if not name.strip():
                raise self.error("baseline must name a file", "baseline")
            baseline = self.path.parent / name
        return Policy(
            source=str(self.path),
            allow=allow,
            deny=deny,
            severities=self.severities(table) if "severity" in table else (),
            ignore=self.patterns(table) if "ignore" in table else (),
            baseline=baseline,
            fail_on=fail_on,
        )


def _spelling(table: dict[str, Any], resolved: str) -> str:
    """How the deny list spells an entry that resolved to ``resolved``."""
    return next((n for n in table["deny"] if resolve_name(n) == resolved), resolved)


#: A policy file longer than this is no policy.
MAX_POLICY = 1 << 20


def _read_text(path: Path) -> str:
    # A regular file only (a FIFO would block, /dev/zero never end), of bounded size.
    try:
        return read_regular(path, MAX_POLICY, follow=True).decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"no such policy file: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"policy {path} is a directory, not a file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: policy is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read policy {path}: {exc.strerror or exc}") from exc


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = re.sub(r"\s*\((?:at line \d+, column \d+|at end of document)\)", "", str(exc))
        raise UsageError(f"{path}:{_toml_line(str(exc), text)}: invalid TOML: {msg}") from None
    except RecursionError:
        raise UsageError(f"{path}: invalid TOML: nested too deeply to read") from None
    return data


def _read_policy(path: Path, *, required: bool) -> Policy | None:
    """The policy in ``path``; for a pyproject.toml, None when it has no [tool.auditor]
    table (an error when ``required``)."""
    text = _read_text(path)
    pyproject = path.name == PYPROJECT
    if pyproject and not required and "auditor" not in text:
        return None  # not ours: do not fail an audit on someone's broken pyproject.toml
    data = _parse(path, text)
    if not pyproject:
        return _Reader(path, text, ()).policy(data)
    tool = data.get("tool", {})
    table = tool.get("auditor") if isinstance(tool, dict) else None
    if table is None:
        if required:
            raise UsageError(f"{path}: no [tool.auditor] table")
        return None
    reader = _Reader(path, text, ("tool", "auditor"))
    if not isinstance(table, dict):
        raise reader.error("tool.auditor must be a table")
    return reader.policy(table)


def load_policy(root: Path | None, explicit: Path | None = None) -> Policy:
    """The policy for the repo at ``root``: ``explicit`` if given, else ``root/.auditor.toml``,
    else ``[tool.auditor]`` of ``root/pyproject.toml``, else ``Policy()``.

    ``root`` is None for a target that is no local folder (nothing to discover).
    The baseline file is not read here (``Policy.with_baseline`` or ``apply`` does),
    so that ``--write-baseline`` can create it.
    """
    if explicit is not None:
        policy = _read_policy(explicit, required=True)
        assert policy is not None
        return policy
    if root is None or not root.is_dir():
        return Policy()
    for name in (POLICY_FILE, PYPROJECT):
        path = root / name
        if path.is_file():
            found = _read_policy(path, required=False)
            if found is not None:
                return found
    return Policy()
