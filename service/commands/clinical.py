"""``backpain-cds rules``, ``samples`` and ``evaluate``: the clinical core from the shell.

``evaluate`` runs the core offline on a sample scenario (by id) or a JSON file: a FHIR
Bundle (the Patient in it is the subject; on order hooks its draft ServiceRequests are the
draft orders) or a whole CDS Hooks request body (hook, context, prefetch). It uses the
site's thresholds (``BACKPAIN_CDS_*``), so a site can see what its settings change.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from cds_rules import HOOKS, Evaluation, HookRequest, evaluate, rules_catalogue, to_json
from service.commands._common import site_rule_settings
from service.config import did_you_mean
from service.explain import explain
from service.hook_input import InputError, parse_now, request_from_document, with_hook


def register(subparsers: argparse._SubParsersAction) -> None:
    rules = subparsers.add_parser("rules", help="list every rule with id, version, topic, "
                                  "indicator and evidence")
    rules.add_argument("--json", action="store_true", help="print JSON")
    rules.set_defaults(func=_rules)

    samples = subparsers.add_parser("samples", help="list the sample scenarios")
    samples.add_argument("--json", action="store_true", help="print JSON")
    samples.set_defaults(func=_samples)

    run = subparsers.add_parser("evaluate", help="evaluate a FHIR Bundle file or a sample "
                                "scenario offline and print the cards")
    run.add_argument("target", metavar="PATH-OR-SAMPLE",
                     help="a JSON file (FHIR Bundle or CDS Hooks request) or a sample id")
    run.add_argument("--hook", choices=HOOKS, help="hook to evaluate as (default: the "
                     "sample's or request's hook, else patient-view)")
    run.add_argument("--now", help="evaluation time, ISO 8601 (default: the sample's time, "
                     "else the current time); without a zone, UTC")
    run.add_argument("--json", action="store_true", help="print the wire cards as JSON")
    run.set_defaults(func=_evaluate)


# --- rules ---------------------------------------------------------------------------------


def _rules(args: argparse.Namespace) -> int:
    catalogue = rules_catalogue()
    if args.json:
        print(json.dumps(catalogue, indent=2, ensure_ascii=False))
        return 0
    for rule in catalogue:
        print(f"{rule['id']}  v{rule['version']}  {rule['topic']}  "
              f"[{'/'.join(rule['indicators'])}]  hooks: {', '.join(rule['hooks'])}")
        print(f"    {rule['title']}")
        print(f"    changed: {rule['changes'] or 'no change recorded in cds_rules/CHANGELOG.md'}")
        for source in rule["evidence"]:
            strength = f" — {source['strength']}" if source["strength"] else ""
            print(f"    · {source['title']} ({source['version']}){strength}")
            print(f"      {source['url']}")
        print()
    return 0


# --- samples -------------------------------------------------------------------------------


def _samples(args: argparse.Namespace) -> int:
    import fhir_samples

    scenarios = fhir_samples.load_all()
    if args.json:
        print(json.dumps([{"id": s.id, "title": s.title, "hook": s.hook,
                           "now": s.now.isoformat(),
                           "expected": sorted(f"{t}:{i}" for t, i in s.expected)}
                          for s in scenarios], indent=2, ensure_ascii=False))
        return 0
    width = max((len(s.id) for s in scenarios), default=0)
    for s in scenarios:
        expected = ", ".join(f"{t} ({i})" for t, i in sorted(s.expected)) or "no cards"
        print(f"{s.id:<{width}}  {s.hook:<15}  {s.title}")
        print(f"{'':<{width}}  {'':<15}  expects: {expected}")
    return 0


# --- evaluate ------------------------------------------------------------------------------


def _evaluate(args: argparse.Namespace) -> int:
    rule_settings = site_rule_settings()
    if rule_settings is None:
        return 2
    try:
        request, now, expected = _load_target(args.target)
        if args.hook:
            request = with_hook(request, args.hook)
        if args.now:
            now = parse_now(args.now)
    except InputError as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        return 2
    result = evaluate(request, now, rule_settings)
    if args.json:
        print(json.dumps({"cards": to_json(result.cards)}, indent=2, ensure_ascii=False))
    else:
        print(render(result, request, now))
        print()
        print("\n".join(explain(result, request, now, rule_settings)))
        if expected is not None and not (args.hook or args.now):
            got = {(c.topic, c.indicator) for c in result.cards}
            verdict = "matches" if got == expected else "DIFFERS FROM"
            print(f"Result {verdict} the sample's expectation: "
                  + (", ".join(f"{t} ({i})" for t, i in sorted(expected)) or "no cards"))
    return 0


def _load_target(
    target: str,
) -> tuple[HookRequest, datetime, set[tuple[str, str]] | None]:
    path = Path(target)
    if path.is_file():
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"{target}: not readable JSON ({exc})") from None
        return request_from_document(document, target), datetime.now(UTC), None
    import fhir_samples

    try:
        scenario = fhir_samples.load(target)
    except KeyError:
        hint = did_you_mean(Path(target).stem, fhir_samples.scenario_ids())
        raise InputError(f"{target!r} is neither a file nor a sample id{hint} "
                         "(see `backpain-cds samples`)") from None
    return scenario.hook_request(), scenario.now, set(scenario.expected)


# --- readable output -----------------------------------------------------------------------


def render(result: Evaluation, request: HookRequest, now: datetime) -> str:
    """The cards as a clinician would skim them: indicator, summary, topic, detail."""
    lines = [f"{request.hook} for Patient/{request.patient_id} at {now.isoformat()}: "
             f"{len(result.cards)} card(s)"]
    for index, card in enumerate(result.cards, 1):
        lines += ["", "=" * 78,
                  f"{index}. [{card.indicator.upper()}] {card.summary}",
                  f"   topic: {card.topic}   source: {card.source.label}", "-" * 78]
        lines += [textwrap.indent(card.detail or "", "   ")]
        if card.suggestions:
            lines += ["", f"   Suggestions ({card.selection_behavior}):"]
            for s in card.suggestions:
                mark = " (recommended)" if s.is_recommended else ""
                lines.append(f"   * {s.label}{mark}")
                lines += [f"       - {a.type}: {a.description}" for a in s.actions]
    return "\n".join(lines)
