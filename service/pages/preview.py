"""``/preview``: see what the service would answer, as an EHR would show it.

Pick a sample scenario (``?sample=<id>``) or paste/upload a FHIR Bundle or a whole CDS Hooks
request; choose the hook, "now" and a draft order. The page shows the cards (indicator,
summary, Markdown detail, suggestions, links, override reasons), the facts and reasons
behind each, this site's thresholds used, the data gaps and what the record builder left
out and why. The evaluation is the hook endpoints' own (``cds_rules.evaluate`` with this
site's settings); snoozes are not applied and nothing is written: no audit, no issued card,
no log line with the input (the form is a POST, so nothing reaches the access log's path).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Blueprint, Response, make_response, render_template, request

from cds_rules import (
    HOOKS,
    ORDER_HOOKS,
    ORDERS,
    Evaluation,
    HookRequest,
    RuleSettings,
    evaluate,
    mended_text_gap,
    prefetch_templates,
    to_json,
)
from service.errors import error_response
from service.explain import attribute, why_none
from service.hook_input import InputError, parse_now, request_from_document, with_hook
from service.jsonbody import loads_mending
from service.logs import bind
from service.pages.access import guard
from service.pages.render import site_rule_settings

bp = Blueprint("preview", __name__, template_folder="templates")
bp.before_request(guard)

DRAFT_ORDER_KEYS = ("mri-lumbar-without-contrast", "mri-lumbar-with-and-without-contrast",
                    "mri-whole-spine", "xray-lumbar", "xray-thoracic", "emg-needle", "ncs")
DRAFT_ID = "preview-draft-order"
MAX_NAMED = 400  # resources whose fate is named one by one (above: counts only)
LISTED = 50  # names shown per list
MAX_ECHO = 256 * 1024  # pasted text longer than this is not sent back into the form


@dataclass(slots=True)
class Form:
    """What the user chose (echoed back into the form)."""

    sample: str = ""
    hook: str = ""
    now: str = ""
    draft: str = ""
    text: str = ""


@dataclass(slots=True)
class Outcome:
    request: HookRequest
    now: datetime
    result: Evaluation
    expected: set[tuple[str, str]] | None = None
    notes: list[str] = field(default_factory=list)
    why_none: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # "Condition/x: code: field required"
    unrecognised: list[str] = field(default_factory=list)  # "Observation/y: system|code"
    faults: list[str] = field(default_factory=list)  # "Condition/z": a reader raised on it
    attributed: bool = True  # False: too many resources to name each (counts only)


@bp.get("/preview")
def page() -> Response:
    form = Form(sample=request.args.get("sample", ""), hook=request.args.get("hook", ""),
                now=request.args.get("now", ""), draft=request.args.get("draft", ""))
    if not form.sample:
        return _answer(form)
    try:
        return _answer(form, _run(form, *_from_sample(form.sample)))
    except InputError as exc:
        return _answer(form, error=str(exc), status=400)


@bp.post("/preview")
def submit() -> Response:
    text = request.form.get("document", "")
    form = Form(hook=request.form.get("hook", ""), now=request.form.get("now", ""),
                draft=request.form.get("draft", ""),
                text=text if len(text) <= MAX_ECHO else "")
    try:
        document, mended = _document(text)
        req = request_from_document(document, "the pasted document")
        if mended:  # as the service would: every card says a word may be garbled
            req = replace(req, data_gaps=(*req.data_gaps, mended_text_gap(mended)))
        form_gaps = _absent_prefetch(document)
        outcome = _run(form, req, datetime.now(UTC), None)
        outcome.notes += form_gaps
        return _answer(form, outcome)
    except InputError as exc:
        return _answer(form, error=str(exc), status=400)


def _absent_prefetch(document: Any) -> list[str]:
    """A pasted CDS Hooks request without some prefetch keys: the service would fetch them
    from the EHR's FHIR server; the preview fetches nothing, so it says what it lacks."""
    if not (isinstance(document, dict) and "hook" in document and "context" in document):
        return []
    prefetch = document.get("prefetch")
    sent: dict[str, Any] = prefetch if isinstance(prefetch, dict) else {}
    absent = [key for key in prefetch_templates() if key not in sent]
    if not absent:
        return []
    return [f"Not in the pasted request's prefetch, and not fetched here: {', '.join(absent)}. "
            "The service would read them from the EHR's FHIR server; the cards below are "
            "without them."]


def _document(text: str) -> tuple[Any, int]:
    """The pasted or uploaded JSON, and how many lone surrogate escapes in it were read as
    U+FFFD (as the service reads a hook call: :func:`service.jsonbody.loads_mending`)."""
    upload = request.files.get("file")
    raw = upload.read() if upload and upload.filename else text.encode("utf-8", "replace")
    if not raw or not raw.strip():
        raise InputError("paste a FHIR Bundle or a CDS Hooks request, or choose a file")
    try:
        return loads_mending(raw)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc})") from None


def _from_sample(sample_id: str) -> tuple[HookRequest, datetime, set[tuple[str, str]]]:
    import fhir_samples

    try:
        scenario = fhir_samples.load(sample_id)
    except KeyError:
        raise InputError(f"no sample scenario {sample_id!r}") from None
    return scenario.hook_request(), scenario.now, set(scenario.expected)


def _run(form: Form, req: HookRequest, now: datetime,
         expected: set[tuple[str, str]] | None) -> Outcome:
    notes: list[str] = []
    if form.hook:
        if form.hook not in HOOKS:
            raise InputError(f"unknown hook {form.hook!r}")
        req = with_hook(req, form.hook)
    if form.now:
        now = parse_now(form.now, "now")
    if form.draft:
        req, note = _with_draft(req, form.draft, now)
        notes.append(note)
    bind(patient_id=req.patient_id)  # the log redaction knows this patient id
    settings = site_rule_settings()
    result = evaluate(req, now, settings)
    changed = bool(form.hook or form.now or form.draft)
    outcome = Outcome(req, now, result, None if changed else expected, notes)
    explain(outcome, settings)
    return outcome


def explain(outcome: Outcome, settings: RuleSettings) -> None:
    """Why no cards, and which resources were dropped or not read, named one by one by
    the core itself (:mod:`service.explain`, as ``backpain-cds evaluate`` says
    it). Naming costs a record build per resource: above :data:`MAX_NAMED` resources the
    page gives the counts only, to stay fast."""
    req, now = outcome.request, outcome.now
    if not outcome.result.cards:
        outcome.why_none = why_none(req, now, settings)
    if len(req.resources) > MAX_NAMED:
        outcome.attributed = False
        return
    named = attribute(req, now, settings)
    outcome.invalid, outcome.faults, outcome.unrecognised = \
        named.invalid, named.faults, named.unrecognised


def _with_draft(req: HookRequest, key: str, now: datetime) -> tuple[HookRequest, str]:
    """Add a draft ServiceRequest for ``key`` (an order hook selects it)."""
    spec = ORDERS.get(key)
    if spec is None or key not in DRAFT_ORDER_KEYS:
        raise InputError(f"unknown draft order {key!r}")
    if req.hook not in ORDER_HOOKS:
        return req, (f"The draft order ({spec.display}) was not used: only order-select and "
                     "order-sign see draft orders.")
    draft = {"resourceType": "ServiceRequest", "id": DRAFT_ID, "status": "draft",
             "intent": "order", "code": {"coding": [c.coding() for c in spec.codes],
                                         "text": spec.display},
             "subject": {"reference": f"Patient/{req.patient_id}"},
             "authoredOn": now.isoformat()}
    selections = (f"ServiceRequest/{DRAFT_ID}",) if req.hook == "order-select" else ()
    return replace(req, draft_orders=(*req.draft_orders, draft),
                   selections=(*req.selections, *selections)), \
        f"Draft order added: {spec.display} (ServiceRequest/{DRAFT_ID})."


def _wants_html() -> bool:
    """A browser (or no preference) gets the page; a JSON client the OperationOutcome."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json",
                                                "application/fhir+json"], "text/html")
    return best == "text/html"


def _answer(form: Form, outcome: Outcome | None = None, error: str = "",
            status: int = 200) -> Response:
    import fhir_samples

    if error and not _wants_html():
        return error_response(status, error)  # an API client: the service's OperationOutcome
    got, cards = None, []
    if outcome is not None:
        got = {(c.topic, c.indicator) for c in outcome.result.cards}
        cards = [to_json(c) for c in outcome.result.cards]  # as the wire carries them
    html = render_template(
        "preview.html", form=form, outcome=outcome, error=error, got=got, cards=cards,
        hooks=HOOKS,
        listed=LISTED,
        samples=fhir_samples.load_all(),
        drafts=[(key, ORDERS[key].display) for key in DRAFT_ORDER_KEYS])
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"  # a patient's cards: not in any cache
    return response
