"""Where an exception was raised, without its text: for log lines about faults, which must
never quote the record (an exception's message may hold a name, a number, a display)."""

from __future__ import annotations

import traceback

# This project's code: a library's innermost frame says little of where our bug is.
_OWN_CODE = ("/cds_rules/", "/service/")


def raised_at(error: BaseException) -> str:
    """``module.py:line in function`` of the innermost frame, and of the innermost frame in
    this project's code when that is another: no data."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown"
    places = [frames[-1]]
    own = [f for f in frames if any(part in f.filename.replace("\\", "/") for part in _OWN_CODE)]
    if own and own[-1] is not frames[-1]:
        places.append(own[-1])
    return " via ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}"
                        for f in places)
