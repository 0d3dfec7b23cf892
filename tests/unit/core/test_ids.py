"""cds_rules.ids hands out the kernel's random bytes read ahead (issue #15: no system call
per uuid): every uuid is a valid version 4 UUID, none repeats, concurrent threads never
get the same bytes, and a forked worker never hands out what its parent will."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_rules.ids import new_uuid, random_bytes, uuid_text, v4_text


def test_uuids_are_version_4_and_never_repeat() -> None:
    seen = [new_uuid() for _ in range(20_000)]  # several refills of the pool
    assert len(set(seen)) == len(seen)
    for text in seen[:: 997]:
        value = uuid.UUID(text)
        assert value.version == 4 and value.variant == uuid.RFC_4122 and str(value) == text


def test_threads_never_share_bytes() -> None:
    with ThreadPoolExecutor(8) as pool:
        chunks = list(pool.map(lambda _: random_bytes(24), range(8_000)))
    assert len(set(chunks)) == len(chunks)
    assert all(len(chunk) == 24 for chunk in chunks)


def test_a_request_larger_than_the_pool_is_served_whole() -> None:
    assert len(random_bytes(10_000)) == 10_000


def test_a_forked_child_never_hands_out_its_parents_bytes() -> None:
    random_bytes(8)  # the parent's pool now holds bytes not yet handed out
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report what it draws, then leave at once
        os.close(read_end)
        os.write(write_end, "".join(new_uuid() for _ in range(50)).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        childs = pipe.read().decode()
    os.waitpid(child, 0)
    parents = "".join(new_uuid() for _ in range(50))
    assert len(childs) == len(parents) == 50 * 36
    child_ids = {childs[i:i + 36] for i in range(0, len(childs), 36)}
    parent_ids = {parents[i:i + 36] for i in range(0, len(parents), 36)}
    assert not child_ids & parent_ids


@settings(max_examples=2000)
@given(st.binary(min_size=16, max_size=16))
def test_a_uuid_is_written_as_the_uuid_module_writes_it(raw: bytes) -> None:
    """The card path writes uuids without building ``uuid.UUID`` objects (#15): the same
    text, version and variant bits included."""
    assert v4_text(raw) == str(uuid.UUID(bytes=raw, version=4))
    value = int.from_bytes(raw, "big")
    assert uuid_text(value) == str(uuid.UUID(int=value))


def test_the_extreme_values_are_written_whole() -> None:
    for value in (0, 1, 2**128 - 1, 2**127):
        assert uuid_text(value) == str(uuid.UUID(int=value))


def test_a_value_that_is_no_uuid_is_refused_as_the_uuid_module_refuses_it() -> None:
    for value in (-1, 2**128):
        with pytest.raises(ValueError):
            uuid.UUID(int=value)
        with pytest.raises(ValueError):
            uuid_text(value)
    with pytest.raises(ValueError):
        v4_text(bytes(15))
