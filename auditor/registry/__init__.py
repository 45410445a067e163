"""The registry: scheduled audits of many Hub repos with their history (docs/registry.md).

``scan`` audits repos into the database, ``db`` stores scans, observations and
audits, ``changes`` compares two points of that history, ``render`` writes
changes and the current state as text, JSON and CSV.
"""
