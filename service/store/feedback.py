"""Feedback on issued cards, and the snoozes an override with a snooze reason starts."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import Feedback, IssuedCard, Snooze, utc
from service.store.base import StoreBase, insert_ignore
from service.store.errors import CardsPending, InvalidFeedback, UnknownCards
from service.store.snooze_cache import bump_statement
from service.store.values import FeedbackItem, FeedbackResult

# Feedback naming a card we issued (service.card_ids) that is not in the database yet
# (still in a writer's queue or spool, here or on another replica): how long to wait for
# it, how often to look again, and for how long after its issue a card can still be on
# its way (past that, "never issued"). Then: 503 + Retry-After, never 404.
UNKNOWN_CARD_GRACE_S = 1.0
UNKNOWN_CARD_RETRY_S = 0.1
PENDING_CARD_HORIZON_S = 7 * 24 * 3600.0


class FeedbackLog(StoreBase):
    """Feedback entries (idempotent) and the snoozes they start."""

    def add_feedback(self, service_id: str, items: Sequence[FeedbackItem],
                     client_iss: str | None = None) -> FeedbackResult:
        """Store feedback on cards this service issued, all or nothing, committed on return.

        Idempotent: an entry already stored (same card, outcome, outcomeTimestamp and
        reason) is ignored. An override with a snooze reason snoozes the card's topic for
        that patient. Raises :class:`UnknownCards` (nothing stored) if a card was never
        issued by ``service_id`` or, when ``client_iss`` (the authenticated client giving
        feedback) is set, never issued to that client: one EHR cannot act on another's
        cards, even knowing their uuids (``None``, unauthenticated: any card of the
        service). :class:`InvalidFeedback` if an accepted suggestion is not
        one of the card's, :class:`StoreUnavailable` if the database is down.

        A card we issued (:mod:`service.card_ids`) whose record is not in the database yet
        (in a writer's queue or spool, on this replica or another) is waited for up to
        UNKNOWN_CARD_GRACE_S (this process's writer is flushed meanwhile), then
        :class:`CardsPending` (a :class:`StoreUnavailable`: 503, retry), never
        :class:`UnknownCards`. Each attempt is bounded client-side (``timeout``).
        """
        deadline = time.monotonic() + UNKNOWN_CARD_GRACE_S
        while True:
            try:
                return self._bounded(self.feedback_bound, "feedback",  # type: ignore[no-any-return]
                                     lambda: self._add_feedback(service_id, items, client_iss))
            except UnknownCards as exc:
                if not exc.missing or not all(self._on_its_way(c) for c in exc.missing):
                    raise
                if time.monotonic() >= deadline:
                    raise CardsPending(f"{len(exc.missing)} card(s) issued, not yet "
                                       "stored") from None
                if self.flush_pending is not None:
                    self.flush_pending()
                time.sleep(UNKNOWN_CARD_RETRY_S)

    def _on_its_way(self, card: str) -> bool:
        """Did we issue ``card`` recently enough for its record to be still on its way?"""
        issued = self.card_ids.issued_at(card)
        return issued is not None and time.time() - issued <= PENDING_CARD_HORIZON_S

    def _add_feedback(self, service_id: str, items: Sequence[FeedbackItem],
                      client_iss: str | None) -> FeedbackResult:
        now = self.clock()
        result = FeedbackResult()
        named = {item.card for item in items}
        with self._session("feedback", write=True) as session:
            # One statement: a card committed meanwhile is seen whole or not at all.
            stored = {card.card_uuid: card for card in
                      session.scalars(select(IssuedCard).where(IssuedCard.card_uuid.in_(named)))}
            cards = {uuid: card for uuid, card in stored.items()
                     if card.service_id == service_id
                     and (client_iss is None or card.client_iss == client_iss)}
            unknown = sorted(named - cards.keys())
            if unknown:  # those in no record at all may still be on their way
                raise UnknownCards(unknown, [card for card in unknown if card not in stored])
            snoozes: list[Snooze] = []
            for index, item in enumerate(items):
                card = cards[item.card]
                foreign = set(item.accepted_suggestions) - set(card.suggestion_uuids)
                if foreign:
                    raise InvalidFeedback(f"feedback[{index}].acceptedSuggestions: "
                                          f"not suggestions of card {item.card}: "
                                          f"{', '.join(sorted(foreign))}")
                feedback_id = self._insert_feedback(session, item, now)
                if feedback_id is None:
                    result.duplicates += 1
                    continue
                result.stored += 1
                if self.snooze_policy.snoozes(item):
                    snoozes.append(Snooze(
                        feedback_id=feedback_id,
                        card_uuid=card.card_uuid,
                        patient_hash=card.patient_hash,
                        client_iss=card.client_iss,
                        topic=card.topic,
                        reason_code=item.reason_code or "",
                        fingerprint=card.fingerprint,
                        created_at=now,
                        expires_at=now + self.snooze_policy.duration(card.indicator),
                    ))
                    result.snoozes += 1
            if snoozes:  # the counter first: it orders snooze ids by commit (snooze_cache)
                session.execute(bump_statement(session))
                session.add_all(snoozes)
        return result

    def _insert_feedback(self, session: Session, item: FeedbackItem,
                         now: datetime) -> int | None:
        """Insert one entry unless already stored; its id, or None for a duplicate."""
        comment = self.hasher.comment(item.user_comment) if item.user_comment else ""
        statement = (
            insert_ignore(session, Feedback)
            .values(
                card_uuid=item.card,
                outcome=item.outcome,
                outcome_timestamp=utc(item.outcome_timestamp),
                reason_key=f"{item.reason_system or ''}|{item.reason_code or ''}|{comment}",
                reason_system=item.reason_system,
                reason_code=item.reason_code,
                has_comment=bool(item.user_comment),
                accepted_suggestions=sorted(set(item.accepted_suggestions)),
                received_at=now,
            )
            .returning(Feedback.id)
        )
        feedback_id: int | None = session.execute(statement).scalar_one_or_none()
        return feedback_id

