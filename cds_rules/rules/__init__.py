"""The rule families: one module per CLINICAL.md topic, each exposing ``RULES``.

A rule is a plain-Python predicate over a :class:`~cds_rules.model.PatientRecord` that
returns a :class:`~cds_rules.model.Finding` or None. The registry of every rule is
:mod:`cds_rules.catalogue`; how families compose is ``cds_rules/PATHWAY.md``.
"""
