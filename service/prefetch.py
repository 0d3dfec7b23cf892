"""Prefetch resolution: turn what the EHR sent into the resources the core reasons over.

CDS Hooks 2.0.1 semantics, per declared key:

- a resource or Bundle → use it (searchset Bundles and single resources alike);
- ``null`` → the EHR knows there is no data: nothing to fetch;
- absent, or an OperationOutcome (or a Bundle holding one) → missing: fetch it from
  ``fhirServer`` when a fetcher is registered, else it stays missing;
- a Bundle whose ``link[next]`` points at more pages → fetch the rest when possible, else
  record a data gap (the first page is still used).

Required keys still missing → HTTP 412 naming them. Optional keys still missing → the
core is told through ``data_gaps`` (and says so in the cards). A key that reads the
Patient but holds none (``null``, or another resource type) is a data gap too: the call is
evaluated with age and sex unknown. Resources about another
patient are not filtered here: the core drops and counts them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cds_rules import is_operation_outcome, resources_from
from service.errors import ServiceError
from service.ports import Fetcher

_TOKEN = re.compile(r"\{\{(.*?)\}\}")
# User tokens of CDS Hooks 2.0 ("Prefetch tokens identifying the user") -> the type of
# resource userId must name for the token to have a value.
USER_TOKENS: dict[str, str] = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
CONTEXT_TOKENS = ("patientId", "userId", "encounterId")
_NEXT_PAGES = "#next-pages"  # suffix of the fetch key that continues a paged prefetch


@dataclass(frozen=True, slots=True)
class ResolvedPrefetch:
    resources: tuple[dict[str, Any], ...]
    data_gaps: tuple[str, ...]
    mended: int = 0  # broken UTF-16 escapes in fetched pages, read as U+FFFD


@dataclass(frozen=True, slots=True)
class FhirAccess:
    """How to reach the EHR's FHIR server for this call (any part may be missing)."""

    fhir_server: str | None
    access_token: str | None
    fetcher: Fetcher | None
    allowed_bases: tuple[str, ...]


def resolve_prefetch(
    templates: Mapping[str, str],
    required: Sequence[str],
    prefetch: Mapping[str, Any],
    context: Mapping[str, Any],
    access: FhirAccess,
) -> ResolvedPrefetch:
    """Resources for every declared key, fetching what is missing; 412 if required data
    cannot be had. ``prefetch`` holds only declared keys, already type-checked."""
    found: dict[str, list[dict[str, Any]]] = {}
    missing: dict[str, str] = {}  # key -> why it is missing
    next_pages: dict[str, str] = {}  # key -> URL of its next page
    for key in templates:
        if key not in prefetch:
            missing[key] = "not prefetched"
        elif prefetch[key] is None:
            found[key] = []
        elif is_operation_outcome(prefetch[key]):
            missing[key] = "the EHR reported an error"
        else:
            found[key] = resources_from(prefetch[key])
            if (url := next_link(prefetch[key])) is not None:
                next_pages[key] = url

    queries: dict[str, str] = {}
    for key in missing:
        query = render(templates[key], context)
        if query is None:
            missing[key] = "its query needs a user token this context cannot fill"
        else:
            queries[key] = query
    partial: dict[str, str] = {}  # key -> why later pages are missing
    for key, url in next_pages.items():
        relative = relative_to(url, access.fhir_server)
        if relative is None:
            partial[key] = "only the first page was sent"
        else:
            queries[key + _NEXT_PAGES] = relative

    mended = _fetch(queries, access, found, missing, partial)
    unreadable = _without_a_patient(templates, found)

    unobtainable = [key for key in required if key in missing]
    if unobtainable:
        reasons = "; ".join(f"{key}: {missing[key]}" for key in unobtainable)
        raise ServiceError(412, f"Required prefetch data could not be obtained ({reasons}). "
                                "Send these prefetch keys, or fhirServer and "
                                "fhirAuthorization so the service can read them.")
    gaps = [f"{key} ({why})" for key, why in missing.items()]
    gaps += [f"{key} ({why})" for key, why in partial.items()]
    gaps += [f"{key} (no Patient resource: age and sex unknown)" for key in unreadable]
    resources = tuple(r for key in templates for r in found.get(key, ()))
    return ResolvedPrefetch(resources, tuple(gaps), mended)


def _without_a_patient(templates: Mapping[str, str],
                       found: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Keys that read the Patient (``Patient/{{context.patientId}}``) but hold none (sent
    as null, or as another resource type): the call is evaluated with age and sex unknown
    and every card says so. Anything but a Patient under such a key is set aside (it is
    not what the key declares)."""
    empty = []
    for key, template in templates.items():
        if not template.startswith("Patient/") or key not in found:
            continue
        found[key] = [r for r in found[key] if r.get("resourceType") == "Patient"]
        if not found[key]:
            empty.append(key)
    return empty


def _fetch(
    queries: dict[str, str],
    access: FhirAccess,
    found: dict[str, list[dict[str, Any]]],
    missing: dict[str, str],
    partial: dict[str, str],
) -> int:
    """Fetch ``queries`` and file the outcome under each prefetch key; how many broken
    UTF-16 escapes the fetched pages held (read as U+FFFD)."""
    if not queries:
        return 0
    if not access.fhir_server or access.fetcher is None:
        why = "no fhirServer to read it from" if not access.fhir_server else \
            "this service has no FHIR client configured"
        for fetch_key in queries:
            key = fetch_key.removesuffix(_NEXT_PAGES)
            if key in missing:
                missing[key] = f"{missing[key]}; {why}"
            else:
                partial[key] = f"later pages not read: {why}"
        return 0
    result = access.fetcher.fetch(queries, access.fhir_server, access.access_token,
                                  access.allowed_bases)
    for fetch_key, resources in result.resources.items():
        key = fetch_key.removesuffix(_NEXT_PAGES)
        found.setdefault(key, []).extend(resources)
        missing.pop(key, None)
    for fetch_key, reason in result.failed.items():
        key = fetch_key.removesuffix(_NEXT_PAGES)
        if key in missing:
            missing[key] = f"{missing[key]}; fetch failed: {reason}"
        else:
            partial[key] = f"later pages not read: {reason}"
    return result.mended


def render(template: str, context: Mapping[str, Any]) -> str | None:
    """``template`` with its prefetch tokens filled from ``context`` (URL-encoded), or None
    when a token has no value in this call."""
    unfilled = False

    def fill(match: re.Match[str]) -> str:
        nonlocal unfilled
        value = token_value(match.group(1).strip(), context)
        if value is None:
            unfilled = True
            return ""
        return quote(value, safe="/")

    rendered = _TOKEN.sub(fill, template)
    return None if unfilled else rendered


def token_value(token: str, context: Mapping[str, Any]) -> str | None:
    """The value of one prefetch token (``context.patientId``, ``userPractitionerId`` ...)."""
    if token.startswith("context."):
        name = token.removeprefix("context.")
        value = context.get(name) if name in CONTEXT_TOKENS else None
        return value if isinstance(value, str) and value else None
    wanted_type = USER_TOKENS.get(token)
    user = context.get("userId")
    if wanted_type is None or not isinstance(user, str):
        return None
    rtype, _, rid = user.partition("/")
    return rid if rtype == wanted_type and rid else None


def next_link(value: Any) -> str | None:
    """The ``link[relation=next]`` URL of a searchset Bundle, if it has more pages."""
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        return None
    link = next_link_entry(value)
    url = link.get("url") if link is not None else None
    return url if isinstance(url, str) and url else None


def next_link_entry(bundle: dict[str, Any]) -> dict[str, Any] | None:
    """The first ``link`` entry with relation ``next`` (its url unchecked), or None. The
    prefetch check and the FHIR client's paging both read it (each judges the url)."""
    links = bundle.get("link")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, dict) and link.get("relation") == "next":
            return link
    return None


def relative_to(url: str, base: str | None) -> str | None:
    """``url`` as a query relative to the FHIR base ``base``; None if it is elsewhere."""
    if not base:
        return None
    prefix = base.rstrip("/") + "/"
    if not url.startswith(prefix):
        return None
    return url[len(prefix):] or None
