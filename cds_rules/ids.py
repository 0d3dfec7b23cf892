"""Random identifiers without a system call each (card and suggestion uuids).

Why: ``uuid.uuid4()`` and ``secrets`` ask the kernel for 16 bytes every time. Each
such call lets go of the interpreter lock, and under load a request thread that lets go
waits for the others' turns (up to the 5 ms switch interval) before it runs again: the
card path made four such calls a card-producing hook call, a profile of the server under
load found 9 % of its request threads' time waiting behind them (issue #15). So the
bytes are read from the kernel's generator (``os.urandom``) 4 KiB at a time and handed
out in order: the same quality of randomness, one system call in 256 uuids. A forked
process starts with an empty pool (two workers must never hand out the same bytes).
"""

from __future__ import annotations

import os
import threading

_POOL_BYTES = 4096


class _RandomPool:
    """Bytes from ``os.urandom``, read ahead and handed out once each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffer = b""
        self._offset = 0

    def take(self, count: int) -> bytes:
        with self._lock:
            if self._offset + count > len(self._buffer):
                self._buffer, self._offset = os.urandom(max(_POOL_BYTES, count)), 0
            start = self._offset
            self._offset += count
            return self._buffer[start:self._offset]

    def forget(self) -> None:
        """In a forked child: nothing of the parent's pool is used again (new lock too:
        another thread may have held the parent's at the fork)."""
        self._lock = threading.Lock()
        self._buffer, self._offset = b"", 0


_POOL = _RandomPool()
os.register_at_fork(after_in_child=_POOL.forget)


def random_bytes(count: int) -> bytes:
    """``count`` bytes from the kernel's cryptographic generator (read ahead)."""
    return _POOL.take(count)


def new_uuid() -> str:
    """A random (version 4) UUID, as ``str(uuid.uuid4())``: 122 random bits, the version
    and RFC 4122 variant bits set as ``uuid.UUID(bytes=..., version=4)`` sets them."""
    return v4_text(_POOL.take(16))


def v4_text(raw: bytes) -> str:
    """``str(uuid.UUID(bytes=raw, version=4))``: the version and variant bits set."""
    if len(raw) != 16:
        raise ValueError("a UUID is 16 bytes")
    value = int.from_bytes(raw, "big")
    value = (value & ~(0xF000 << 64)) | (4 << 76)  # version 4
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)  # the RFC 4122 variant
    return uuid_text(value)


def uuid_text(value: int) -> str:
    """``str(uuid.UUID(int=value))`` without building the object (card path, #15)."""
    if not 0 <= value < 1 << 128:
        raise ValueError("a UUID is a 128-bit number")
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
