"""HmacSha256, the keyed digest behind patient hashes, fact fingerprints and card-uuid
tags: the same bytes as the standard library's HMAC for every key length (shorter than,
equal to and longer than SHA-256's 64-byte block) and message, from any thread."""

from __future__ import annotations

import hmac
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given, settings
from hypothesis import strategies as st

from service.hmac_sha256 import HmacSha256


@given(st.binary(max_size=200), st.binary(max_size=300))
@settings(max_examples=400)
def test_it_digests_as_hmac_does(key: bytes, message: bytes) -> None:
    assert HmacSha256(key).digest(message) == hmac.digest(key, message, "sha256")


def test_keys_at_the_block_edges_and_a_reused_instance() -> None:
    for size in (0, 1, 63, 64, 65, 128, 1000):
        key = bytes(range(256))[:size] * (1 + size // 256)
        mac = HmacSha256(key[:size])
        for message in (b"", b"pat-1", b"x" * 64, b"y" * 1000, b"pat-1"):
            assert mac.digest(message) == hmac.digest(key[:size], message, "sha256")


def test_threads_sharing_one_instance_get_each_their_own_digest() -> None:
    mac = HmacSha256(b"site-secret")
    messages = [f"patient-{i}".encode() * (1 + i % 40) for i in range(2000)]
    with ThreadPoolExecutor(8) as pool:
        digests = list(pool.map(mac.digest, messages))
    assert digests == [hmac.digest(b"site-secret", m, "sha256") for m in messages]
