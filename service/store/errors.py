"""What the store raises: the database is away (retry), or the data is wrong."""

from __future__ import annotations

from collections.abc import Sequence


class StoreUnavailable(RuntimeError):
    """The database could not be reached or refused the operation; retry later."""


class CardsPending(StoreUnavailable):
    """Feedback names cards we issued whose records have not reached the database yet."""


class UnknownCards(LookupError):
    """Feedback named cards this service never issued (to this client). ``missing``: those
    of them with no record at all (the others were issued by another service or to
    another client)."""

    def __init__(self, cards: Sequence[str], missing: Sequence[str] = ()) -> None:
        super().__init__(", ".join(cards))
        self.cards = tuple(cards)
        self.missing = tuple(missing)


class InvalidFeedback(ValueError):
    """Feedback inconsistent with the card it names (e.g. a suggestion it never had)."""

