"""Card uuids any replica can recognise as its own, without the database.

Feedback may name a card whose record is not in the database yet: still in a writer's
queue or spool, on this replica or another, while the database is slow or away. Such a
card must get "503, retry" and never "404, never issued" (the clinician's feedback and
its snooze would be lost for good). So the shell gives every card it sends a UUID of
version 8 (RFC 9562, "custom") that carries the second it was issued, 56 random bits and
a 32-bit HMAC tag under a key derived from the patient-hash key (the same on every
replica): :meth:`CardIds.issued_at` tells a card we issued, and when, from any other id.
A forged tag buys nothing but a 503 instead of a 404.
"""

from __future__ import annotations

import hmac
import uuid

from cds_rules import random_bytes, uuid_text
from service.hmac_sha256 import HmacSha256

EPOCH = 1_704_067_200  # 2024-01-01T00:00:00Z; 34 bits of seconds last until 2568
_TIME_BITS, _RANDOM_BITS, _TAG_BITS = 34, 56, 32  # 122 bits: all a version-8 UUID holds


class CardIds:
    def __init__(self, key: bytes) -> None:
        self._mac = HmacSha256(HmacSha256(key).digest(b"backpain-cds card ids"))

    def _tag(self, seconds: int, nonce: int) -> int:
        message = seconds.to_bytes(5, "big") + nonce.to_bytes(7, "big")
        return int.from_bytes(self._mac.digest(message)[:4], "big")

    def mint(self, at: float) -> str:
        """A new card uuid stamped with the time ``at`` (Unix seconds)."""
        seconds = max(0, int(at) - EPOCH) & ((1 << _TIME_BITS) - 1)
        nonce = int.from_bytes(random_bytes(_RANDOM_BITS // 8), "big")  # no system call each
        payload = (((seconds << _RANDOM_BITS) | nonce) << _TAG_BITS) | self._tag(seconds, nonce)
        high, middle, low = payload >> 74, (payload >> 62) & 0xFFF, payload & ((1 << 62) - 1)
        value = (high << 80) | (0x8 << 76) | (middle << 64) | (0b10 << 62) | low
        return uuid_text(value)

    def issued_at(self, card: str) -> float | None:
        """When we issued ``card`` (Unix seconds), or None if we did not mint it."""
        try:
            value = uuid.UUID(card).int
        except ValueError:
            return None
        if (value >> 76) & 0xF != 0x8 or (value >> 62) & 0b11 != 0b10:
            return None
        high, middle, low = value >> 80, (value >> 64) & 0xFFF, value & ((1 << 62) - 1)
        payload = (high << 74) | (middle << 62) | low
        tag = payload & ((1 << _TAG_BITS) - 1)
        nonce = (payload >> _TAG_BITS) & ((1 << _RANDOM_BITS) - 1)
        seconds = payload >> (_TAG_BITS + _RANDOM_BITS)
        if not hmac.compare_digest(tag.to_bytes(4, "big"),
                                   self._tag(seconds, nonce).to_bytes(4, "big")):
            return None
        return float(seconds + EPOCH)
