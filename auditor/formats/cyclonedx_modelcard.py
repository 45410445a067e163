"""The CycloneDX 1.6 ``modelCard`` and ``data`` objects, which cyclonedx-python-lib lacks.

Plain JSON in the shape of the 1.6 schema (``definitions.modelCard`` and
``definitions.componentData``), filled only from facts the detectors found:
nothing is guessed, and a section with nothing known is left out.
auditor.formats.cyclonedx inserts these objects into the library's output by
bom-ref; see its docstring for why.

* ``modelParameters``: ``approach.type`` from ``training_type`` when it names one
  of the schema's learning types, ``task`` from ``pipeline_tag``,
  ``architectureFamily`` from ``model_type``, ``modelArchitecture`` from
  ``architecture``, ``datasets`` as references to the ``data`` components of the
  data sets the card names.
* ``quantitativeAnalysis.performanceMetrics`` from ``metric`` facts
  (``TYPE=VALUE[ on DATASET]``; the data set becomes the metric's ``slice``).
* ``considerations``: ``useCases`` from ``intended_use``, ``technicalLimitations``
  from ``limitation``; ``environmentalConsiderations.energyConsumptions`` from
  ``energy_consumption`` (``N kWh``) as a ``training`` activity, with
  ``co2_eq_emissions`` (``N g``) as its CO2 cost in tonnes. The schema requires
  ``energyProviders``; cards do not name them, so the list is empty. Without an
  energy figure, the emissions are an ``auditor:co2_eq_emissions`` property of the
  environmental considerations.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from auditor.formats.bom import energies, number
from auditor.formats.bom import metrics as parse_metrics

if TYPE_CHECKING:
    from auditor.formats.bom import Bom, Package

#: The learning types of ``modelParameters.approach.type`` (CycloneDX 1.6).
APPROACHES = (
    "supervised",
    "unsupervised",
    "reinforcement-learning",
    "semi-supervised",
    "self-supervised",
)
_CO2 = re.compile(r"^\s*([0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*(g|kg|t)\b", re.IGNORECASE)
#: Grams of a CO2 unit, to write tonnes (``tCO2eq``, the only unit the schema has).
_GRAMS = {"g": 1, "kg": 1_000, "t": 1_000_000}


def dataset_ref(name: str) -> str:
    """The bom-ref of the ``data`` component of a data set the card names."""
    return "dataset:" + name


def data_entry(name: str, url: str | None, description: str | None = None) -> dict[str, Any]:
    """One ``componentData`` of a ``data`` component."""
    entry: dict[str, Any] = {"type": "dataset", "name": name}
    if url:
        entry["contents"] = {"url": url}
    if description:
        entry["description"] = description
    return entry


def _approach(values: list[str]) -> str | None:
    for v in values:
        norm = re.sub(r"[\s_]+", "-", v.strip().lower())
        norm = "reinforcement-learning" if norm == "reinforcement" else norm
        if norm in APPROACHES:
            return norm
    return None


def _environment(energy: list[str], co2: list[str]) -> dict[str, Any]:
    """``environmentalConsiderations``: the first energy figure that parses, with the CO2."""
    tonnes: int | float | None = None
    for value in co2:
        m = _CO2.match(value)
        if m:
            tonnes = number(m.group(1)) * _GRAMS[m.group(2).lower()] / 1_000_000
            tonnes = int(tonnes) if float(tonnes).is_integer() else tonnes
            break
    for quantity, unit in energies(energy):
        if unit != "kWh":
            continue  # the 1.6 schema's energy unit is kWh only
        use: dict[str, Any] = {
            "activity": "training",
            "energyProviders": [],
            "activityEnergyCost": {"value": quantity, "unit": "kWh"},
        }
        if tonnes is not None:
            use["co2CostEquivalent"] = {"value": tonnes, "unit": "tCO2eq"}
        return {"energyConsumptions": [use]}
    props = [{"name": "auditor:energy_consumption", "value": v} for v in energy]
    props += [{"name": "auditor:co2_eq_emissions", "value": v} for v in co2]
    return {"properties": props} if props else {}


def model_card(bom: Bom, pkg: Package, datasets: list[str]) -> dict[str, Any]:
    """The ``modelCard`` of a model package from its facts; ``{}`` when nothing is known.

    ``datasets`` are the bom-refs of the data components of the data sets it names.
    """

    def facts(name: str) -> list[str]:
        return bom.facts(name, pkg.component)

    def first(name: str) -> str | None:
        values = facts(name)
        return values[0] if values else None

    params: dict[str, Any] = {}
    approach = _approach(facts("training_type"))
    if approach:
        params["approach"] = {"type": approach}
    for key, fact in (
        ("task", "pipeline_tag"),
        ("architectureFamily", "model_type"),
        ("modelArchitecture", "architecture"),
    ):
        value = first(fact)
        if value:
            params[key] = value
    if datasets:
        params["datasets"] = [{"ref": ref} for ref in datasets]

    metrics = [
        {"type": m.type, "value": m.value, **({"slice": m.dataset} if m.dataset else {})}
        for m in parse_metrics(facts("metric"))
    ]

    considerations: dict[str, Any] = {}
    if facts("intended_use"):
        considerations["useCases"] = facts("intended_use")
    if facts("limitation"):
        considerations["technicalLimitations"] = facts("limitation")
    environment = _environment(facts("energy_consumption"), facts("co2_eq_emissions"))
    if environment:
        considerations["environmentalConsiderations"] = environment

    card: dict[str, Any] = {}
    if params:
        card["modelParameters"] = params
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    if considerations:
        card["considerations"] = considerations
    return card
