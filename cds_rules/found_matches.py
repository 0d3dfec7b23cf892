"""Every match of a pattern in a text, found once, and the matches a search from a given
position finds read from them (:mod:`cds_rules.uncoded_reading`: each sign's lookup a
bisect, not a search of the rest of the text per sign, which is quadratic)."""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Protocol


class Positions(Protocol):
    """Positions in order, read by index (a list, or :class:`Spliced`)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int, /) -> int: ...


class Spliced:
    """``head`` and then ``tail[skip:]``, read by index without copying ``tail``."""

    def __init__(self, head: list[int], tail: list[int], skip: int) -> None:
        self.head, self.tail, self.skip = head, tail, skip

    def __len__(self) -> int:
        return len(self.head) + len(self.tail) - self.skip

    def __getitem__(self, index: int, /) -> int:
        if index < len(self.head):
            return self.head[index]
        return self.tail[index - len(self.head) + self.skip]


class Found:
    """Every match of a pattern in a text, in order, with their starts and ends: where a
    lookup starts and whether a match runs through its position."""

    def __init__(self, pattern: re.Pattern[str], text: str) -> None:
        self.pattern, self.text = pattern, text
        self.matches = list(pattern.finditer(text))
        self.starts = [m.start() for m in self.matches]
        self.ends = [m.end() for m in self.matches]

    def from_position(self, pos: int) -> tuple[Positions, Positions, int]:
        """(starts, ends, first index) of the matches a search from ``pos`` on finds: the
        matches of its own while one of this list's runs through where it goes on, then this
        list's (a search from a position no match runs through finds what the whole text's
        does). Once per cue, found by a few matches: linear (a new search of the rest for
        every cue took 25 s on 100 KB of "no , or fever , or "). For a pattern that reads
        nothing before where it starts and never matches empty."""
        head: list[tuple[int, int]] = []
        at, following = pos, self.pattern.finditer(self.text, pos)
        while self.runs_through(at):
            found = next(following, None)
            if found is None:
                return [s for s, _ in head], [e for _, e in head], 0  # none after
            head.append(found.span())
            at = found.end()
        first = self.first_from(at)
        if not head:
            return self.starts, self.ends, first
        return (Spliced([s for s, _ in head], self.starts, first),
                Spliced([e for _, e in head], self.ends, first), 0)

    def first_from(self, at: int) -> int:
        """The index of the first match that starts at ``at`` or later."""
        return bisect_left(self.starts, at)

    def runs_through(self, at: int) -> bool:
        """Does a match start before ``at`` and end after it? (A search from ``at`` would
        then find what this list does not hold.)"""
        before = self.first_from(at)
        return before > 0 and self.ends[before - 1] > at

    def end_through(self, at: int) -> int:
        """The end of the match that runs through ``at`` (:meth:`runs_through`)."""
        return self.ends[self.first_from(at) - 1]
