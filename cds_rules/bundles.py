"""Flatten FHIR values (a resource, a Bundle, a list, None) into resources, and read references.

Pure functions over JSON dicts: never raise on junk, ignore what is not a resource.
"""

from __future__ import annotations

from typing import Any, TypeGuard

_MAX_DEPTH = 4  # Bundles inside Bundles (rare) are followed this deep, no further


def resources_from(value: object) -> list[dict[str, Any]]:
    """Every resource in ``value``: a single resource, a Bundle of any type (searchset,
    transaction, collection, ...), a list of those, or None. Non-dict junk is ignored;
    Bundles are replaced by their entries' resources (nested Bundles are flattened too)."""
    out: list[dict[str, Any]] = []
    _collect(value, out, 0)
    return out


def _collect(value: object, out: list[dict[str, Any]], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, list | tuple):
        for item in value:
            _collect(item, out, depth + 1)
        return
    if not isinstance(value, dict):
        return
    rtype = value.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        return
    if rtype != "Bundle":
        out.append(value)
        return
    entries = value.get("entry")
    if not isinstance(entries, list):
        return
    inner = depth + 1
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        if inner <= _MAX_DEPTH and _plain_resource(resource):
            out.append(resource)  # the common case, without a call per entry
        else:
            _collect(resource, out, inner)


def entry_full_urls(value: object, resource_type: str, resource_id: str) -> list[str]:
    """The ``fullUrl`` of every Bundle entry in ``value`` holding the resource
    ``resource_type/resource_id``. A transaction or collection Bundle (Synthea, an EHR
    export) refers to its entries by these ("urn:uuid:..."), which need not end in the id:
    FHIR R4 Bundle, resolving references in Bundles."""
    urls: list[str] = []
    _entry_urls(value, resource_type, resource_id, urls, 0)
    return urls


def _entry_urls(value: object, resource_type: str, resource_id: str, urls: list[str],
                depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, list | tuple):
        for item in value:
            _entry_urls(item, resource_type, resource_id, urls, depth + 1)
        return
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        return
    entries = value.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        url = entry.get("fullUrl")
        if (isinstance(resource, dict) and resource.get("resourceType") == resource_type
                and resource.get("id") == resource_id and isinstance(url, str) and url.strip()):
            urls.append(url.strip())
        else:
            _entry_urls(resource, resource_type, resource_id, urls, depth + 1)


def _plain_resource(value: object) -> TypeGuard[dict[str, Any]]:
    """A resource that is not a Bundle (what :func:`_collect` keeps as it is)."""
    if not isinstance(value, dict):
        return False
    rtype = value.get("resourceType")
    return isinstance(rtype, str) and rtype != "" and rtype != "Bundle"


def is_operation_outcome(value: object) -> bool:
    """True when ``value`` stands for an error instead of data (CDS Hooks: an EHR that
    failed to prefetch MAY send an OperationOutcome, or a Bundle holding one).

    An OperationOutcome itself counts, and so does a Bundle whose OperationOutcome (an
    entry resource, e.g. ``search.mode: outcome``, or an entry's ``response.outcome``)
    reports an error or fatal issue, or a Bundle holding outcomes and nothing else. A
    searchset with data and a merely informational or warning outcome is data.
    """
    if not isinstance(value, dict):
        return False
    rtype = value.get("resourceType")
    if rtype == "OperationOutcome":
        return True
    if rtype != "Bundle":
        return False
    entries = value.get("entry")
    if not isinstance(entries, list):
        return False
    outcomes: list[dict[str, Any]] = []
    data = 0
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        if isinstance(resource, dict):
            if resource.get("resourceType") == "OperationOutcome":
                outcomes.append(resource)
            else:
                data += 1
        response = entry.get("response")
        if response is not None and isinstance(response, dict):
            outcome = response.get("outcome")
            if isinstance(outcome, dict) and outcome.get("resourceType") == "OperationOutcome":
                outcomes.append(outcome)
    return bool(outcomes) and (data == 0 or any(is_error_outcome(o) for o in outcomes))


def is_error_outcome(outcome: dict[str, Any]) -> bool:
    """An OperationOutcome that reports a failure: an error or fatal issue, or issues we
    cannot read (an outcome that says nothing is no reassurance)."""
    issues = outcome.get("issue")
    if not isinstance(issues, list):
        return True
    return any(not isinstance(i, dict) or i.get("severity") in ("error", "fatal")
               for i in issues)


def parse_reference(reference: object) -> tuple[str | None, str | None]:
    """``"Patient/1"`` -> ("Patient", "1"); absolute URLs and ``/_history/n`` too;
    ``"urn:uuid:abc"`` -> (None, "abc") (Synthea transaction Bundles use these);
    contained (``"#x"``) and junk -> (None, None)."""
    if not isinstance(reference, str):
        return None, None
    ref = reference.strip()
    if not ref or ref.startswith("#"):
        return None, None
    lowered = ref.lower()
    if lowered.startswith("urn:uuid:") or lowered.startswith("urn:oid:"):
        ident = ref[9:] if lowered.startswith("urn:uuid:") else ref[8:]
        return None, ident or None
    parts = [p for p in ref.split("?")[0].split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return parts[-2], parts[-1]
    if len(parts) == 1:
        return None, parts[0]
    return None, None


def reference_of(value: object) -> str | None:
    """The ``reference`` string of a Reference dict, or None."""
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str) and ref.strip():
            return ref.strip()
    return None


def refers_to_patient(reference: object, patient_id: str) -> bool | None:
    """Whether a Reference (dict) or reference string points at ``patient_id``.

    True: it does (``Patient/<id>``, an absolute URL ending so, or ``urn:uuid:<id>``).
    False: it points elsewhere (another Patient, or a Group/Device/Location subject).
    None: nothing to judge (no reference, identifier-only or contained reference).
    """
    ref = reference if isinstance(reference, str) else reference_of(reference)
    if ref is None:
        return None
    rtype, rid = parse_reference(ref)
    if rid is None:
        return None
    if rtype is not None and rtype != "Patient":
        return False
    return rid == patient_id
