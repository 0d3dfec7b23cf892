"""HMAC-SHA256 under a key fixed for the life of the process (RFC 2104, as ``hmac``).

Why: ``hmac.digest`` sets the key up again in OpenSSL on every call (two padded-key
blocks hashed, an EVP context fetched), which cost a card-producing hook call more than
the hashing itself: a card's uuid tag, the patient hash and one digest per fact of a card
(issue #15). Here the two padded-key blocks are hashed once; each digest copies them.
Same digests as ``hmac.digest(key, message, "sha256")``, byte for byte (tested).
"""

from __future__ import annotations

import hashlib

_BLOCK = 64  # SHA-256's block size in bytes
_INNER_PAD = bytes(x ^ 0x36 for x in range(256))  # hmac.trans_36
_OUTER_PAD = bytes(x ^ 0x5C for x in range(256))  # hmac.trans_5C


class HmacSha256:
    """``digest(message)`` == ``hmac.digest(key, message, "sha256")``; thread-safe (each
    call works on copies)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        block = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(block.translate(_INNER_PAD))
        self._outer = hashlib.sha256(block.translate(_OUTER_PAD))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()
