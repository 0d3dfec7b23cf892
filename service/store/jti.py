"""The JWT replay cache: a token id is accepted once until it expires, across replicas."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from service.db import SeenJti, utc
from service.store.base import StoreBase, insert_ignore

JTI_PURGE_INTERVAL_S = 60.0


class JtiCache(StoreBase):
    """Which JWT ids were seen (``seen_jti``), for the trust layer's replay check."""

    def claim_jti(self, jti: str, expires_at: datetime) -> bool:
        """True if ``jti`` is newly claimed; False if already seen and not yet expired.

        Atomic across threads and replicas: the primary key decides (INSERT ... ON
        CONFLICT DO NOTHING), and an expired row is re-claimed by a conditional UPDATE.
        Raises :class:`StoreUnavailable` if the database is down or does not answer within
        the hook path's bound.
        """
        return bool(self._bounded(self.hook_bound, "claim_jti",
                                  lambda: self._claim_jti(jti, expires_at)))

    def remember_jtis(self, rows: Sequence[tuple[str, datetime]]) -> None:
        """Record JWT ids accepted while the store was away (already seen ones are kept)."""
        values = [{"jti": jti, "expires_at": utc(expires)} for jti, expires in rows]
        if not values:
            return
        with self._session("remember_jtis", write=True) as session:
            session.execute(insert_ignore(session, SeenJti), values)

    def _claim_jti(self, jti: str, expires_at: datetime) -> bool:
        now = self.clock()
        expires_at = utc(expires_at)
        with self._session("claim_jti", write=True) as session:
            self._purge_jti_now_and_then(session, now)
            inserted = session.execute(
                insert_ignore(session, SeenJti)
                .values(jti=jti, expires_at=expires_at)
                .returning(SeenJti.jti)
            ).scalar_one_or_none()
            if inserted is not None:
                return True
            reclaimed = session.execute(
                update(SeenJti)
                .where(SeenJti.jti == jti, SeenJti.expires_at <= now)
                .values(expires_at=expires_at)
                .returning(SeenJti.jti)
            ).scalar_one_or_none()
            return reclaimed is not None

    def _purge_jti_now_and_then(self, session: Session, now: datetime) -> None:
        if time.monotonic() < self._next_jti_purge:
            return
        self._next_jti_purge = time.monotonic() + JTI_PURGE_INTERVAL_S
        session.execute(delete(SeenJti).where(SeenJti.expires_at <= now))
