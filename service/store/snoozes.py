"""Which cards an active snooze hides from a hook call (the hook path's one read)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from service.db import Snooze, utc
from service.metrics import CARDS_SUPPRESSED
from service.ports import HookCall
from service.store.base import StoreBase
from service.store.calls import card_topic, findings_by_topic


class Snoozes(StoreBase):
    """Snoozes as the hook path reads them (they are written with feedback)."""

    def snoozed_cards(self, call: HookCall) -> list[dict[str, Any]]:
        """The cards of ``call.evaluation.cards`` that an active snooze hides.

        A snooze covers a card only if every fact of the card's current finding was seen
        by the snoozed card: a new fact (new sign, new value, new resource) shows it again.
        A card whose finding is unknown is never hidden. Snoozes are per client (JWT
        iss) and patient: another EHR's patient with the same id is not affected.
        Raises StoreUnavailable.
        """
        cards = call.evaluation.cards
        findings = findings_by_topic(call.evaluation.findings)
        topics = {topic for card in cards if (topic := card_topic(card)) in findings}
        if not topics:
            return []
        statement = _ACTIVE_SNOOZES[call.client_iss is None]
        parameters = {"patient": self.hasher.patient(call.patient_id),
                      "client": call.client_iss, "topics": sorted(topics),
                      "at": utc(call.received_at)}

        def read() -> list[Any]:
            with self._session("suppress_snoozed", write=False) as session:
                return list(session.execute(statement, parameters).all())

        rows = self._bounded(self.hook_bound, "suppress_snoozed", read)
        seen_by_topic: dict[str, list[set[str]]] = {}
        for topic, fingerprint in rows:
            seen_by_topic.setdefault(topic, []).append(set(fingerprint))
        hidden = []
        for card in cards:
            topic = card_topic(card)
            if topic is None or topic not in seen_by_topic:
                continue
            current = set(self.hasher.fingerprint(findings[topic]))
            if any(current <= seen for seen in seen_by_topic[topic]):
                CARDS_SUPPRESSED.labels(topic=topic).inc()
                hidden.append(card)
        return hidden


def _active_snoozes(client_is_null: bool) -> Any:
    """The hook path's one read, built once (building a select costs about as much as
    running it on SQLite): snoozes of a patient and client, for some topics, at a time.
    The client is ``client_iss``, NULL matching NULL (unauthenticated calls), in a form
    both databases can answer from an index."""
    client = Snooze.client_iss.is_(None) if client_is_null \
        else Snooze.client_iss == bindparam("client")
    return select(Snooze.topic, Snooze.fingerprint).where(
        Snooze.patient_hash == bindparam("patient"),
        client,
        Snooze.topic.in_(bindparam("topics", expanding=True)),
        Snooze.expires_at > bindparam("at", type_=Snooze.expires_at.type),
    )


# keyed by "the call has no client" (unauthenticated): IS NULL, else = :client
_ACTIVE_SNOOZES = {True: _active_snoozes(True), False: _active_snoozes(False)}

