"""The store: one object with every repository over one database."""

from __future__ import annotations

from service.store.calls import CallLog
from service.store.feedback import FeedbackLog
from service.store.jti import JtiCache
from service.store.report import Governance
from service.store.snoozes import Snoozes


class Store(JtiCache, CallLog, Snoozes, FeedbackLog, Governance):
    """Repositories over one database (:class:`service.store.base.StoreBase`): the JWT
    replay cache, issued cards and audit, snoozes, feedback, the governance report and
    retention. Each operation runs in its own short session."""
