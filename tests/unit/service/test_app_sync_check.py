"""The app asks Flask's coroutine check once per function (ServiceApp.ensure_sync).

Flask checks every view and request hook with ``inspect`` on every request; the service's
app remembers the answer for the functions it has seen (issue #15). What it returns must
be what Flask returns, for plain and coroutine functions and for callables it cannot
remember, and what it remembers is bounded.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest
from flask import Flask

from service.app import ServiceApp, create_app


def _plain(value: int) -> int:
    return value + 1


async def _coroutine() -> None:
    return None


class _Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __call__(self) -> str:
        return "called"


def test_the_service_is_built_on_the_app_that_remembers(settings: Any) -> None:
    assert isinstance(create_app(settings), ServiceApp)


def test_a_plain_function_is_returned_as_flask_returns_it() -> None:
    app, flask = ServiceApp("t"), Flask("t")
    assert app.ensure_sync(_plain) is flask.ensure_sync(_plain) is _plain
    assert app.ensure_sync(_plain) is _plain  # asked again: the remembered answer


def test_a_coroutine_function_gets_flasks_answer_every_time() -> None:
    app, flask = ServiceApp("t"), Flask("t")
    outcomes: list[str] = []
    for ensure in (flask.ensure_sync, app.ensure_sync, app.ensure_sync):
        try:
            ensure(_coroutine)
            outcomes.append("wrapped")
        except RuntimeError as error:  # Flask without its "async" extra
            outcomes.append(str(error))
    assert outcomes[0] == outcomes[1] == outcomes[2]


def test_an_unhashable_callable_is_asked_of_flask() -> None:
    callable_ = _Unhashable()
    assert ServiceApp("t").ensure_sync(callable_) is callable_


def test_flasks_check_is_made_once_per_function(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Any] = []
    flask_check = Flask.ensure_sync

    def counted(self: Flask, func: Any) -> Any:
        asked.append(func)
        return flask_check(self, func)

    monkeypatch.setattr(Flask, "ensure_sync", counted)
    app = ServiceApp("t")
    for _ in range(5):
        assert app.ensure_sync(_plain) is _plain
    assert asked == [_plain]


def test_a_per_request_closure_is_not_kept() -> None:
    app = ServiceApp("t")
    for value in range(300):
        def closure(v: int = value) -> int:
            return v

        assert app.ensure_sync(closure) is closure
    del closure
    gc.collect()
    assert len(app._plain) == 0


def test_the_service_answers_calls_through_the_remembered_hooks(settings: Any) -> None:
    app = create_app(settings)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/cds-services").status_code == 200
    # the views and hooks a request runs are remembered, each once
    assert 0 < len(app._plain) < 30


@pytest.fixture
def settings(tmp_path: Any) -> Any:
    from service.config import load_settings

    return load_settings({
        "BACKPAIN_CDS_ALLOW_UNAUTHENTICATED": "1",
        "BACKPAIN_CDS_DATABASE_URL": f"sqlite:///{tmp_path}/t.sqlite3",
        "BACKPAIN_CDS_PATIENT_HASH_KEY": "test-key",
    })
