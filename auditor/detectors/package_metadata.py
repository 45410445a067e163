"""Code package metadata: ``pyproject.toml``, ``setup.cfg``, ``setup.py``, ``package.json``.

A package's ``license`` field speaks for its code (scope ``code``). An SPDX
id or expression maps through the catalog; a free-text name ("Apache License
2.0") gets a small, conservative normalization; anything that still does
not name exactly one license, a family ("BSD", "GPL") or a non-license
("UNLICENSED", "Proprietary") is reported as unknown, never guessed.
``setup.py`` is parsed with ``ast`` and never imported or run: only a
string literal passed as ``license=`` to a ``setup(...)`` call counts.
"""

from __future__ import annotations

import ast
import configparser
import importlib
import json
import re
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from auditor.detectors import DETECTORS, Detected, Detector, detection, line_of, unknown
from auditor.model import (
    Evidence,
    Fact,
    FileEntry,
    LicenseDetection,
    LicenseReference,
    Method,
    Place,
    Scope,
    Skipped,
)
from auditor.signatures import AMBIGUOUS_HUB_IDS, catalog

FILE_NAMES = frozenset({"pyproject.toml", "setup.cfg", "setup.py", "package.json"})

TomlLoads = Callable[[str], dict[str, Any]]


def _toml_loads() -> TomlLoads | None:
    """``tomllib`` (3.11+) or ``tomli``; None when neither is there (regex fallback)."""
    for name in ("tomllib", "tomli"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        loads: TomlLoads = module.loads
        return loads
    return None


TOML_LOADS = _toml_loads()

# Trove classifiers (after "License :: ") that name one license, as SPDX ids.
CLASSIFIERS: dict[str, str] = {
    "OSI Approved :: MIT License": "MIT",
    "OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "OSI Approved :: ISC License (ISCL)": "ISC",
    "OSI Approved :: Zero-Clause BSD (0BSD)": "0BSD",
    "OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "OSI Approved :: Mozilla Public License 1.1 (MPL 1.1)": "MPL-1.1",
    "OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "OSI Approved :: Eclipse Public License 1.0 (EPL-1.0)": "EPL-1.0",
    "OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "OSI Approved :: GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "OSI Approved :: GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "OSI Approved :: GNU Affero General Public License v3": "AGPL-3.0-only",
    "OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
    "OSI Approved :: European Union Public Licence 1.1 (EUPL 1.1)": "EUPL-1.1",
    "OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)": "EUPL-1.2",
    "OSI Approved :: Universal Permissive License (UPL)": "UPL-1.0",
    "OSI Approved :: zlib/libpng License": "Zlib",
    "OSI Approved :: SIL Open Font License 1.1 (OFL-1.1)": "OFL-1.1",
    "OSI Approved :: Open Software License 3.0 (OSL-3.0)": "OSL-3.0",
    "OSI Approved :: PostgreSQL License": "PostgreSQL",
    "OSI Approved :: Blue Oak Model License (BlueOak-1.0.0)": "BlueOak-1.0.0",
    "OSI Approved :: Common Development and Distribution License 1.0 (CDDL-1.0)": "CDDL-1.0",
    "OSI Approved :: Mulan Permissive Software License v2 (MulanPSL-2.0)": "MulanPSL-2.0",
    "OSI Approved :: University of Illinois/NCSA Open Source License": "NCSA",
    "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
}
# Classifiers that name a family, not a license, with the SPDX id prefixes of
# its members: unknown on their own, but no news next to a license field that
# names a member (license = "BSD-3-Clause" with "BSD License" is common).
FAMILY_CLASSIFIERS: dict[str, tuple[str, ...]] = {
    # It names no version: usually 2.0, but a guess all the same.
    "OSI Approved :: Apache Software License": ("Apache-",),
    "OSI Approved :: BSD License": ("BSD-", "0BSD"),
    "OSI Approved :: GNU General Public License (GPL)": ("GPL-",),
    "OSI Approved :: GNU Library or Lesser General Public License (LGPL)": ("LGPL-",),
    "OSI Approved :: Artistic License": ("Artistic-",),
}
# Classifiers that only group others: they state nothing.
SILENT_CLASSIFIERS = frozenset({"OSI Approved"})

# Values that are not a license (or say there is none): stated, so reported, as unknown.
NOT_A_LICENSE = frozenset(
    {
        "unlicensed",
        "proprietary",
        "commercial",
        "other",
        "unknown",
        "none",
        "custom",
        "all rights reserved",
    }
)

# Whole phrases of free-text names that SPDX ids abbreviate.
_PHRASES = (
    (re.compile(r"\b(?:gnu\s+)?affero\s+general\s+public\b"), "agpl"),
    (re.compile(r"\b(?:gnu\s+)?(?:lesser|library)\s+general\s+public\b"), "lgpl"),
    (re.compile(r"\bgnu\s+general\s+public\b"), "gpl"),
    (re.compile(r"\bmozilla\s+public\b"), "mpl"),
    (re.compile(r"\beclipse\s+public\b"), "epl"),
    (re.compile(r"\bgnu\s+(?=a?gpl|lgpl)"), ""),
    (re.compile(r"\b(a?gpl|lgpl|mpl|epl|eupl)\s*-?\s*v(?=\d)"), r"\1 "),
    (re.compile(r"\b(a?gpl|lgpl|mpl|epl|eupl)(?=\d)"), r"\1 "),
    (re.compile(r"\s*(?:,\s*)?\bor\s+(?:any\s+)?later(?:\s+version)?\b|\s*\+"), " +"),
)
_NOISE_WORDS = frozenset({"the", "license", "licensed", "version", "only", "software"})
_VERSION = re.compile(r"v?(\d+(?:\.\d+)*)")


def _from_name(name: str) -> str | None:
    """The key of a free-text license name, or None: only exact, versioned names map.

    A parenthesized part must agree: "GNU GPL v3 (GPLv3)" is GPL-3.0-only,
    "MIT License (BSD)" is nothing.
    """
    inner = re.findall(r"\(([^()]*)\)", name)
    if inner:
        outer = re.sub(r"\([^()]*\)", " ", name)
        keys = {_from_name(outer), *(catalog().by_spdx(i) or _from_name(i) for i in inner)}
        return keys.pop() if len(keys) == 1 else None
    s = name.lower().replace("licence", "license")
    for pattern, repl in _PHRASES:
        s = pattern.sub(repl, s)
    plus = s.rstrip().endswith("+")
    words = [w for w in re.split(r"[\s,\-]+", s.replace("+", " ")) if w and w not in _NOISE_WORDS]
    if not words:
        return None
    m = _VERSION.fullmatch(words[-1])
    if m and len(words) > 1:
        version = m.group(1)
        words[-1] = version if "." in version else f"{version}.0"
    candidate = "-".join(words) + ("+" if plus else "")
    return catalog().by_spdx(candidate)


_UPPER_OPERATOR = re.compile(r"\s+(?:AND|OR|WITH)\s+")
_ANY_OPERATOR = re.compile(r"\s+(?:and|or|with)\s+", re.IGNORECASE)


def _one(name: str) -> str | None:
    return catalog().by_spdx(name) or _from_name(name)


def _operands(value: str) -> list[str] | None:
    """The operands of an SPDX expression, or None when ``value`` is not one.

    Upper-case operators make an expression; lower-case ones only when every
    operand names a license ("mit or apache-2.0", not "GPL v2 or later").
    """
    if _UPPER_OPERATOR.search(value):
        parts = _UPPER_OPERATOR.split(value)
    elif _ANY_OPERATOR.search(value):
        parts = _ANY_OPERATOR.split(value)
        if not all(_one(p.strip(" ()")) for p in parts):
            return None
    else:
        return None
    return [o for o in (p.strip(" ()") for p in parts) if o]


def resolve(value: str) -> list[str | None]:
    """Keys for a license field's value, None for each license named but not identified."""
    v = " ".join(value.split())
    if not v:
        return []
    low = v.lower()
    if low in NOT_A_LICENSE or low in AMBIGUOUS_HUB_IDS:
        return [None]
    key = catalog().by_spdx(v)
    if key:
        return [key]
    operands = _operands(v)
    if operands is not None:
        return list(dict.fromkeys(_one(o) for o in operands))
    return [_from_name(v)]


def _classifier(classifier: str) -> tuple[str | None, tuple[str, ...]] | None:
    """(SPDX id or None, family prefixes) for a license classifier; None for other classifiers."""
    parts = [p.strip() for p in classifier.split("::")]
    if len(parts) < 2 or parts[0] != "License":
        return None
    rest = " :: ".join(parts[1:])
    if rest in SILENT_CLASSIFIERS:
        return None
    if rest in CLASSIFIERS:
        return CLASSIFIERS[rest], ()
    return None, FAMILY_CLASSIFIERS.get(rest, ())


def _line(text: str, offset: int) -> tuple[int, str]:
    """1-based line number and stripped text of the line at ``offset``."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return line_of(text, offset), text[start : end if end >= 0 else len(text)].strip()


_TOML_TABLE = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_INI_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
# The regex fallback for pyproject.toml without a TOML parser: one-line values only.
_PYPROJECT_TABLES = frozenset({"project", "tool.poetry"})
_TOML_LICENSE = re.compile(
    r"^\s*license\s*=\s*(?:(?P<q>[\"'])(?P<value>[^\"'\n]*)(?P=q)"
    r"|\{\s*(?P<field>text|file)\s*=\s*(?P<q2>[\"'])(?P<inner>[^\"'\n]*)(?P=q2))"
)
_TOML_CLASSIFIER = re.compile(r"(?P<q>[\"'])(?P<c>License\s*::[^\"'\n]*)(?P=q)")


def _table_name(raw: str) -> str:
    return ".".join(p.strip().strip("\"'") for p in raw.split("."))


def _toml_key_line(text: str, table: str, key: str) -> tuple[int, str] | None:
    """Where ``key`` is set in TOML table ``table``: its line, or its own table's header."""
    current = ""
    key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*(=|\.)")
    offset = 0
    for line in text.split("\n"):
        m = _TOML_TABLE.match(line)
        if m:
            current = _table_name(m.group(1))
            if current == f"{table}.{key}":
                return _line(text, offset)
        elif current == table and key_re.match(line):
            return _line(text, offset)
        offset += len(line) + 1
    return None


def _find(text: str, needle: str, start: int = 0) -> tuple[int, str] | None:
    at = text.find(needle, start)
    return _line(text, at) if at >= 0 else None


@DETECTORS.register("package-metadata")
class PackageMetadataDetector(Detector):
    text_limit = 256 * 1024

    def applies_to(self, entry: FileEntry) -> bool:
        return PurePosixPath(entry.path).name in FILE_NAMES

    def detect(self, entry: FileEntry, text: str) -> Detected:
        name = PurePosixPath(entry.path).name
        found = _Found(entry)
        try:
            if name == "pyproject.toml":
                self._pyproject(found, text)
            elif name == "setup.cfg":
                self._setup_cfg(found, text)
            elif name == "setup.py":
                self._setup_py(found, text)
            elif name == "package.json":
                self._package_json(found, text)
        except _Unreadable as exc:
            return Detected(problems=(Skipped(entry.path, str(exc)),))
        return found.result()

    # pyproject.toml (PEP 621 / PEP 639, Poetry)

    def _pyproject(self, found: _Found, text: str) -> None:
        if TOML_LOADS is None:
            self._pyproject_regex(found, text)
            return
        try:
            data = TOML_LOADS(text)
        except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
            raise _Unreadable(f"pyproject.toml is not valid TOML ({exc})") from None
        except RecursionError:
            raise _Unreadable("pyproject.toml is nested too deeply to read") from None
        tool = data.get("tool")
        tables = [
            ("project", data.get("project")),
            ("tool.poetry", tool.get("poetry") if isinstance(tool, dict) else None),
        ]
        for table, body in tables:
            if not isinstance(body, dict):
                continue
            where = _toml_key_line(text, table, "license") or (1, f"[{table}] license")
            lic = body.get("license")
            if isinstance(lic, str):
                found.statement(lic, where)
            elif isinstance(lic, dict):
                if isinstance(lic.get("text"), str):
                    found.statement(lic["text"], where)
                if isinstance(lic.get("file"), str):
                    found.fact("license_file", lic["file"], where)
            classifiers = body.get("classifiers")
            if isinstance(classifiers, list):
                for c in classifiers:
                    if isinstance(c, str):
                        found.classifier(c, _find(text, c) or (1, c))

    def _pyproject_regex(self, found: _Found, text: str) -> None:
        """No TOML parser (Python 3.10 without tomli): single-line ``license`` values only."""
        current = ""
        offset = 0
        for line in text.split("\n"):
            m = _TOML_TABLE.match(line)
            if m:
                current = _table_name(m.group(1))
            elif current in _PYPROJECT_TABLES:
                lic = _TOML_LICENSE.match(line)
                if lic and lic.group("value") is not None:
                    found.statement(lic.group("value"), _line(text, offset))
                elif lic and lic.group("field") == "text":
                    found.statement(lic.group("inner"), _line(text, offset))
                elif lic:
                    found.fact("license_file", lic.group("inner"), _line(text, offset))
                for c in _TOML_CLASSIFIER.finditer(line):
                    found.classifier(c.group("c"), _line(text, offset + c.start()))
            offset += len(line) + 1

    # setup.cfg

    def _setup_cfg(self, found: _Found, text: str) -> None:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text)
        except configparser.Error as exc:
            first = str(exc).splitlines()[0]
            raise _Unreadable(f"setup.cfg is not a valid INI file ({first})") from None
        if not parser.has_section("metadata"):
            return
        start = self._ini_section_offset(text, "metadata")
        lic = parser.get("metadata", "license", fallback=None)
        if lic is not None:
            where = self._ini_key_line(text, start, "license") or (1, "[metadata] license")
            if lic.strip().startswith("file:"):
                found.fact("license_file", lic.strip()[5:].strip(), where)
            else:
                found.statement(lic, where)
        for c in parser.get("metadata", "classifiers", fallback="").splitlines():
            if c.strip():
                found.classifier(c.strip(), _find(text, c.strip(), start) or (1, c.strip()))

    @staticmethod
    def _ini_section_offset(text: str, section: str) -> int:
        offset = 0
        for line in text.split("\n"):
            m = _INI_SECTION.match(line)
            if m and m.group(1).strip() == section:
                return offset
            offset += len(line) + 1
        return 0

    @staticmethod
    def _ini_key_line(text: str, start: int, key: str) -> tuple[int, str] | None:
        m = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*[=:]", re.MULTILINE).search(text, start)
        return _line(text, m.start()) if m else None

    # setup.py: parsed, never run

    def _setup_py(self, found: _Found, text: str) -> None:
        try:
            tree = ast.parse(text, filename="setup.py")
        except SyntaxError as exc:
            where = f"line {exc.lineno}: " if exc.lineno else ""
            raise _Unreadable(f"setup.py is not valid Python 3 ({where}{exc.msg})") from None
        except (ValueError, RecursionError, MemoryError) as exc:
            raise _Unreadable(f"setup.py could not be parsed ({type(exc).__name__})") from None
        lines = text.split("\n")

        def at(node: ast.expr | ast.keyword) -> tuple[int, str]:
            n = max(1, node.lineno)
            return n, lines[n - 1].strip() if n <= len(lines) else ""

        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and self._is_setup(node.func)):
                continue
            for kw in node.keywords:
                if kw.arg == "license":
                    value = kw.value
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        found.statement(value.value, at(kw))
                elif kw.arg == "classifiers" and isinstance(kw.value, (ast.List, ast.Tuple)):
                    for elt in kw.value.elts:
                        if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                            found.classifier(elt.value, at(elt))

    @staticmethod
    def _is_setup(func: ast.expr) -> bool:
        return (isinstance(func, ast.Name) and func.id == "setup") or (
            isinstance(func, ast.Attribute) and func.attr == "setup"
        )

    # package.json (npm)

    def _package_json(self, found: _Found, text: str) -> None:
        try:
            data = json.loads(text)
        except RecursionError:
            raise _Unreadable("package.json is nested too deeply to read") from None
        except ValueError as exc:
            raise _Unreadable(f"package.json is not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            return
        key_at = re.search(r'"license"\s*:', text)
        start = key_at.start() if key_at else 0
        where = _line(text, start) if key_at else (1, '"license": ...')
        lic = data.get("license")
        if isinstance(lic, dict):
            lic = lic.get("type")
        if isinstance(lic, str):
            see = re.match(r"(?i)^\s*see\s+license\s+in\s+(\S.*?)\s*$", lic)
            if see:
                found.fact("license_file", see.group(1), where)
            else:
                found.statement(lic, where)
        licenses = data.get("licenses")
        if isinstance(licenses, list):
            list_at = re.search(r'"licenses"\s*:', text)
            start = list_at.start() if list_at else 0
            for item in licenses:
                value = item.get("type") if isinstance(item, dict) else item
                if isinstance(value, str):
                    spot = _find(text, json.dumps(value), start) or (1, '"licenses": ...')
                    found.statement(value, spot)


class _Unreadable(Exception):
    """The file cannot be parsed; the message says why, for the report."""


class _Found:
    """Detections and facts of one file, in the order found, without duplicates."""

    def __init__(self, entry: FileEntry) -> None:
        self.entry = entry
        self.detections: list[LicenseDetection] = []
        self.facts: list[Fact] = []
        self.references: list[LicenseReference] = []
        # Family classifiers wait until the file's license fields are known.
        self._families: list[tuple[tuple[str, ...], Evidence]] = []

    def _evidence(self, where: tuple[int, str]) -> Evidence:
        line, excerpt = where
        return Evidence(self.entry.path, line, line, Method.PACKAGE_METADATA, excerpt)

    def _add(self, key: str | None, ev: Evidence, family: tuple[str, ...] = ()) -> None:
        det = (
            detection(key, ev, scope=Scope.CODE, place=Place.FIELD)
            if key
            else unknown(ev, Scope.CODE, Place.FIELD, stated=ev.excerpt, family=family)
        )
        if all((d.key, d.evidence) != (det.key, det.evidence) for d in self.detections):
            self.detections.append(det)

    def statement(self, value: str, where: tuple[int, str]) -> None:
        ev = self._evidence(where)
        for key in resolve(value):
            self._add(key, ev)

    def classifier(self, classifier: str, where: tuple[int, str]) -> None:
        parsed = _classifier(classifier)
        if parsed is None:
            return
        spdx_id, family = parsed
        ev = self._evidence(where)
        if family:
            self._families.append((family, ev))
        else:
            self._add(catalog().by_spdx(spdx_id) if spdx_id else None, ev)

    def fact(self, name: str, value: str, where: tuple[int, str]) -> None:
        ev = self._evidence(where)
        self.facts.append(Fact(name, value, ev))
        if name == "license_file":
            # license = {file = "LICENSE.md"}: the package's license is that file's; a
            # broken reference when it is not there.
            self.references.append(
                LicenseReference(value, Scope.CODE, ev, value, True, place=Place.FIELD)
            )

    def result(self) -> Detected:
        for prefixes, ev in self._families:
            named = any(d.spdx_id.startswith(prefixes) for d in self.detections)
            if not named:
                # A family ("Apache Software License"): no key, but it agrees with a member.
                self._add(None, ev, tuple(p.lower() for p in prefixes))
        return Detected(
            tuple(self.detections), tuple(self.facts), references=tuple(self.references)
        )
