"""What changed between two audits: ``auditor diff OLD NEW`` (docs/diff.md).

A diff is a comparison of two ``AuditResult``s that ``run_audit`` made, never a
second engine: ``compare(old, new)`` gives an ``AuditDiff`` (``compare.py``), ``render_text``
and ``render_json`` write it (``render.py``). Components are matched by name (``code``, ``model``,
``model:FOLDER``, ``data``), findings by their fingerprint
(``model.fingerprint``: moved line numbers are not news), obligations by
(license, kind, summary, value), base models by name.

What counts for ``--fail-on`` is what *appeared* (``AuditDiff.appeared``):

* a new finding, at its own severity (after the policy);
* a component whose concluded license changed, or a component added, ranked by
  the license it has now: ``error`` when that license is unknown (no conclusion)
  or one of its keys lies outside the catalog's ``Permissive`` and ``Public
  Domain`` categories (copyleft, model licenses with use or commercial limits,
  proprietary terms), else ``warning``.

Everything else is shown, never counted: declared-only license changes, removed
components, resolved findings, obligations (they follow the concluded
license, which is counted), base-model and openness changes.
"""

from __future__ import annotations

from auditor.diff.compare import AuditDiff, compare, diff_targets, rank_license
from auditor.diff.render import diff_dict, render_json, render_text

__all__ = [
    "AuditDiff",
    "compare",
    "diff_dict",
    "diff_targets",
    "rank_license",
    "render_json",
    "render_text",
]
