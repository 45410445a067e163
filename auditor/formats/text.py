"""The human summary: which license covers what, why, and what to fix.

Read from the top, it answers in order of need: the repository's, the code's,
the weights' and the data's license on four lines and a verdict line (the
findings counted, the exit code); then each part's answer with where it
comes from and what disagrees with it; the findings; what the licenses ask
of a redistributor; the evidence. ``detail`` -1 (``--quiet``) stops after
the findings; 1 (``-v``) lists every piece of evidence, mentions included.
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.evidence import is_mention
from auditor.formats import FORMATS, Format
from auditor.model import (
    UNKNOWN_KEY,
    AuditResult,
    Component,
    ComponentKind,
    Evidence,
    LicenseDetection,
    Place,
)
from auditor.signatures import is_policy, label, license_keys
from auditor.terminal import report_lines

_MARK = {"error": "E", "warning": "W", "note": "N"}
#: Places shown for one license in a "but" line; the rest are counted.
SHOWN = 3
#: Evidence lines per component without -v; the rest are counted.
EVIDENCE_LINES = 12
_PART = {ComponentKind.CODE: "code", ComponentKind.MODEL: "weights", ComponentKind.DATA: "data"}


def _where(ev: Evidence) -> str:
    span = f"{ev.start_line}" if ev.start_line == ev.end_line else f"{ev.start_line}-{ev.end_line}"
    return f"{ev.path}:{span} ({ev.method.value})"


def _license_line(d: LicenseDetection) -> str:
    if d.key == UNKNOWN_KEY:
        what = "unknown" + (f" {d.stated!r}" if d.stated else "")
    else:
        what = f"{d.key} [{d.spdx_id}]"
    notes = [d.place.value]
    if d.is_clue and d.key != UNKNOWN_KEY:
        notes.append("mention")
    if d.modified:
        notes.append("MODIFIED")
    if is_policy(d.key):
        notes.append("policy")
    where = "; ".join(_where(e) for e in d.evidence)
    return f"      {what} ({', '.join(notes)}), scope {d.scope.value} — {where}"


def _named(expression: str | None) -> str:
    if not expression:
        return "UNKNOWN — review needed"
    return " AND ".join(label(k) for k in license_keys(expression))


def _places(evs: Iterable[Evidence]) -> str:
    places = list(dict.fromkeys(f"{e.path}:{e.start_line}" for e in evs))
    shown = ", ".join(places[:SHOWN])
    if len(places) > SHOWN:
        shown += f" and {len(places) - SHOWN} more"
    return f"{shown} ({len(places)} places)" if len(places) > 1 else shown


def _but(c: Component) -> list[str]:
    """One line per license that disagrees, its places counted, none repeated."""
    by_key: dict[str, list[Evidence]] = {}
    for d in c.disagreeing:
        name = d.key if d.key != UNKNOWN_KEY else (repr(d.stated) if d.stated else "unknown")
        by_key.setdefault(name, []).append(d.evidence[0])
    return [f"{'':<13}but {key} at {_places(evs)}" for key, evs in by_key.items()]


def _answer(c: Component) -> list[str]:
    """``model   Llama 3.1 Community License (llama-3.1-...)`` and why, and what disagrees."""
    head = [] if len(c.name) <= 10 else [f"  {c.name}"]  # a long name on a line of its own
    name = f"  {c.name:<10} " if len(c.name) <= 10 else f"{'':<13}"
    if c.concluded:
        out = [f"{name}{_named(c.concluded)}"]
        if c.basis:
            out.append(f"{'':<13}from {_places(d.evidence[0] for d in c.basis)} — {c.reason}")
    elif c.reason:
        out = [f"{name}UNKNOWN — {c.reason.removeprefix('unknown: ')}"]
    else:
        out = [f"{name}NONE — nothing in the repository states a license for it"]
    return head + out + _but(c) + _own_files(c)


def _own_files(c: Component) -> list[str]:
    """Files whose tag or header names a license other than the part's (vendored code)."""
    if not c.concluded:
        return []
    keys = set(license_keys(c.concluded))
    by_key: dict[str, list[Evidence]] = {}
    for d in c.declared:
        if d.place is Place.HEADER and d.key != UNKNOWN_KEY and d.key not in keys:
            by_key.setdefault(d.key, []).append(d.evidence[0])
    return [
        f"{'':<13}files under their own license: {key} at {_places(evs)}"
        for key, evs in by_key.items()
    ]


def _summary(result: AuditResult, fail_on: str | None) -> list[str]:
    repo = result.repository
    if repo is None or (repo.concluded is None and not repo.reason):
        first = "none stated"
    elif repo.concluded:
        first = _named(repo.concluded)
    elif repo.reason.startswith("unknown: "):
        first = f"UNKNOWN — {repo.reason.removeprefix('unknown: ')}"
    else:
        first = "no license covers the whole: its parts are licensed apart (below)"
    out = [f"  {'repository':<11} {first}"]
    for kind in ComponentKind:
        parts = [c for c in result.components if c.kind is kind]
        if not parts:
            answer = "no such files, and nothing states a license for them"
        elif len(parts) == 1:
            answer = _named(parts[0].concluded) if parts[0].concluded else "UNKNOWN — review needed"
        else:
            answer = f"{len(parts)} parts: " + ", ".join(
                f"{c.concluded or 'UNKNOWN'} ({c.path or 'root'})" for c in parts
            )
        out.append(f"  {_PART[kind]:<11} {answer}")
    counts = {s: 0 for s in ("error", "warning", "note")}
    for f in result.findings:
        counts[f.severity.value] += 1
    said = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items())
    if result.accepted:
        said += f" ({len(result.accepted)} accepted by the baseline)"
    if fail_on is not None:
        code = 1 if result.fails(fail_on) else 0
        said += f" — exit {code} (--fail-on {fail_on})"
    out.append(f"  {'verdict':<11} {said}")
    return out


@FORMATS.register("text")
class TextFormat(Format):
    suffix = ".txt"

    def render(self, result: AuditResult) -> bytes:
        inv = result.inventory
        out = [f"auditor {result.tool.version}: {result.target}"]
        if inv.revision:
            out.append(f"revision {inv.revision}")
        kinds: dict[str, int] = {}
        for entry in inv.files:
            kinds[entry.kind.value] = kinds.get(entry.kind.value, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        ignored = (
            f"; {inv.ignored} ignored as git would (.gitignore, virtualenvs, caches; "
            "--no-ignore reads them)"
            if inv.ignored
            else ""
        )
        out.append(f"{len(inv.files)} files ({summary or 'none'}){ignored}")
        out.append("")
        out.extend(_summary(result, self.fail_on))
        if self.detail >= 0:
            out.append("")
            out.append("Licenses")
            if not result.components:
                out.append("  (no code, weights or data files)")
            for c in result.components:
                out.extend(_answer(c))
            for b in result.base_models:
                relation = f" ({b.relation})" if b.relation else ""
                lic = f"; its license {b.license} (from {b.license_source})" if b.license else ""
                out.append(f"  derived from {b.name}{relation}{lic}")
            if result.openness:
                out.append(
                    f"  openness: {result.openness.verdict} — {'; '.join(result.openness.reasons)}"
                )
        out.append("")
        out.append(f"Findings ({len(result.findings)})")
        for f in result.findings:
            where = f" {f.path}" if f.path else ""
            comp = f" [{f.component}]" if f.component else ""
            out.append(f"  {_MARK[f.severity.value]} {f.rule}{comp}{where}: {f.message}")
            if f.fix and self.detail >= 0:
                out.append(f"      fix: {f.fix}")
        if not result.findings:
            out.append("  none")
        if result.accepted:
            out.append(f"  ({len(result.accepted)} more accepted by the baseline)")
        if self.detail < 0:
            return report_lines(out)
        if any(c.obligations for c in result.components):
            out.append("")
            out.append("Obligations when redistributing")
            for c in result.components:
                for o in c.obligations:
                    out.append(f"  {c.name:<10} {o.license}: {o.summary}")
        out.append("")
        out.append("Evidence" + ("" if self.detail > 0 else " (-v: all of it, mentions too)"))
        for c in result.components:
            shown = [d for d in c.declared if self.detail > 0 or not is_mention(d)]
            out.append(f"  {c.name:<10} {c.concluded or 'UNKNOWN'}   ({len(c.files)} files)")
            limit = len(shown) if self.detail > 0 else EVIDENCE_LINES
            for d in shown[:limit]:
                out.append(_license_line(d))
            hidden = len(c.declared) - min(limit, len(shown))
            if hidden > 0:
                out.append(f"      and {hidden} more")
        if result.upstream:
            up = result.upstream
            counts: dict[str, int] = {}
            for ch in up.changes:
                counts[ch.change] = counts.get(ch.change, 0) + 1
            shown_changes = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            out.append("")
            out.append(
                f"Upstream {up.target}: {shown_changes or 'no changes'}; "
                f"{len(up.dropped)} notices dropped"
            )
        if result.skipped:
            out.append("")
            out.append(f"Not read ({len(result.skipped)})")
            for s in result.skipped:
                out.append(f"  {s.path}: {s.reason}")
        return report_lines(out)
