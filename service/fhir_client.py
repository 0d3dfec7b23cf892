"""FHIR R4 REST client: fetch the prefetch keys the EHR did not send, within a deadline.

:class:`HttpFetcher` implements :class:`service.ports.Fetcher`. One instance per app: one
pooled httpx client and one thread pool, shared by every hook call (both thread-safe).

What one :meth:`HttpFetcher.fetch` call guarantees:

- ``fhir_server`` is contacted only if it equals one of the allowlisted bases (the calling
  client's plus ``FHIR_SERVER_ALLOWLIST``), uses https (http only on loopback when
  ``ALLOW_HTTP_LOOPBACK``), and carries no credentials, query or fragment. Otherwise every
  key fails with "fhirServer not allowed" and no connection is attempted.
- Keys are fetched concurrently; each request is bounded by ``FHIR_TIMEOUT_SECONDS`` and
  the whole call by ``FHIR_DEADLINE_SECONDS``: keys not done by then fail with "deadline"
  and the call returns.
- Searchsets are paged through ``link[relation=next]`` only while the link stays under the
  same base, at most ``FHIR_MAX_PAGES`` pages, never the same URL twice. A key returns the
  resources of every page; a read (``Patient/123``) returns ``[resource]``.
- Bounded reading: at most ``FHIR_MAX_RESOURCES`` resources per call and at most
  ``MAX_BODY_BYTES`` per response (the largest body the service accepts as a request, so
  fetching can never hold more than prefetch could). Past a bound the key fails rather than
  returning a silently truncated list, so the shell reports the data gap.
- Retries only for GET answered 429/502/503/504, ``FHIR_RETRIES`` attempts in all, waiting
  as Retry-After asks when that fits in the deadline.
- The bearer token goes only into the Authorization header of requests to the allowlisted
  server (never through a proxy from the environment, never across a redirect); it is not
  logged or kept. Failure reasons are short fixed words with no URL, query or token.
- A page is read as a request body is (:func:`service.jsonbody.loads_mending`): a lone
  UTF-16 surrogate escape is read as U+FFFD and counted in ``FetchResult.mended``, so the
  cards say a word may be garbled instead of losing the key.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from cds_rules import is_error_outcome
from service.config import Settings
from service.jsonbody import loads_mending
from service.metrics import FHIR_FETCH_FAILURES, FHIR_FETCH_LATENCY
from service.ports import FetchResult
from service.prefetch import next_link_entry

log = logging.getLogger(__name__)
# httpx logs every request URL at INFO (and httpcore more at DEBUG): a search URL carries
# the patient id, which must never reach a log line.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

NOT_ALLOWED = "fhirServer not allowed"
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
_STATUS_REASONS = {401: "unauthorized", 403: "forbidden", 404: "not found"}
_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_TOKEN = re.compile(r"[\x21-\x7e]{1,8192}")  # printable ASCII, no spaces (RFC 6750 and more)
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
_BACKOFF_SECONDS = 0.05
_CHUNK_BYTES = 64 * 1024


class FetchError(Exception):
    """One key could not be fetched; ``reason`` is a short word safe to log and return."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class _Call:
    """State shared by the workers of one fetch call."""

    base: httpx.URL
    headers: dict[str, str]
    deadline: float
    max_resources: int
    resources_read: int = 0
    mended: int = 0  # lone UTF-16 surrogate escapes read as U+FFFD, over every page
    cancelled: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def remaining(self) -> float:
        if self.cancelled.is_set():
            raise FetchError("deadline")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise FetchError("deadline")
        return left

    def count_resources(self, n: int) -> None:
        with self.lock:
            if self.resources_read + n > self.max_resources:
                raise FetchError("too many resources")
            self.resources_read += n

    def count_mended(self, n: int) -> None:
        if n:
            with self.lock:
                self.mended += n


class HttpFetcher:
    """The service's FHIR client (see the module docstring for what it guarantees)."""

    def __init__(
        self,
        settings: Settings,
        *,
        max_workers: int = 16,
        max_response_bytes: int | None = None,
    ) -> None:
        self._settings = settings
        self._max_response_bytes = max_response_bytes or settings.max_body_bytes
        self._client = httpx.Client(
            timeout=settings.fhir_timeout_seconds,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            follow_redirects=False,
            trust_env=False,  # no proxy or .netrc from the environment: the token stays here
            headers={"Accept": "application/fhir+json"},
        )
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="fhir-fetch")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    # --- the Fetcher port

    def fetch(
        self,
        queries: Mapping[str, str],
        fhir_server: str,
        access_token: str | None,
        allowed_bases: tuple[str, ...],
    ) -> FetchResult:
        result = FetchResult()
        if not queries:
            return result
        base = allowed_base(
            fhir_server,
            (*allowed_bases, *self._settings.fhir_server_allowlist),
            allow_http_loopback=self._settings.allow_http_loopback,
        )
        refusal = None
        if base is None:
            refusal = NOT_ALLOWED
        elif access_token is not None and not _TOKEN.fullmatch(access_token):
            refusal = "bad token"  # would break the header (or smuggle another one into it)
        if refusal is not None:
            for key in queries:
                result.failed[key] = refusal
            FHIR_FETCH_FAILURES.labels(reason=refusal).inc(len(queries))
            log.warning("FHIR fetch refused (%s); %d keys not fetched", refusal, len(queries))
            return result
        assert base is not None

        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        call = _Call(
            base=base,
            headers=headers,
            deadline=time.monotonic() + self._settings.fhir_deadline_seconds,
            max_resources=self._settings.fhir_max_resources,
        )
        futures: dict[Future[list[dict[str, Any]]], str] = {}
        for key, query in queries.items():
            futures[self._pool.submit(self._fetch_key, call, query)] = key
        pending = set(futures)
        while pending:
            left = call.deadline - time.monotonic()
            if left <= 0:
                break
            done, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
            for future in done:
                self._collect(futures[future], future, result)
        if pending:
            call.cancelled.set()
            for future in pending:
                future.cancel()
                result.failed[futures[future]] = "deadline"
                FHIR_FETCH_FAILURES.labels(reason="deadline").inc()
        result.mended = call.mended
        return _ordered(result, queries)

    # --- one key

    @staticmethod
    def _collect(key: str, future: Future[list[dict[str, Any]]], result: FetchResult) -> None:
        try:
            result.resources[key] = future.result()
        except FetchError as exc:
            result.failed[key] = exc.reason
            FHIR_FETCH_FAILURES.labels(reason=exc.reason).inc()
            log.warning("FHIR fetch of prefetch key %r failed: %s", key, exc.reason)
        except Exception as exc:  # a bug here must not become a 500 for the hook call
            result.failed[key] = "error"
            FHIR_FETCH_FAILURES.labels(reason="error").inc()
            # the type only: a message or traceback could quote the URL and its patient id
            log.error("FHIR fetch of prefetch key %r failed unexpectedly: %s", key,
                      type(exc).__name__)

    def _fetch_key(self, call: _Call, query: str) -> list[dict[str, Any]]:
        resource_type = _resource_type(query)
        started = time.perf_counter()
        try:
            url = _query_url(call.base, query)
            if "/" in query.split("?", 1)[0]:  # a read: Type/id
                resource = self._get_json(call, url)
                if resource.get("resourceType") != resource_type:
                    raise FetchError("malformed")
                call.count_resources(1)
                return [resource]
            return self._search(call, url)
        finally:
            FHIR_FETCH_LATENCY.labels(resource_type=resource_type).observe(
                time.perf_counter() - started
            )

    def _search(self, call: _Call, url: httpx.URL) -> list[dict[str, Any]]:
        resources: list[dict[str, Any]] = []
        seen: set[str] = set()
        next_url: httpx.URL | None = url
        while next_url is not None:
            if str(next_url) in seen:
                raise FetchError("paging loop")
            if len(seen) >= self._settings.fhir_max_pages:
                raise FetchError("too many pages")
            seen.add(str(next_url))
            page = self._get_json(call, next_url)
            if page.get("resourceType") != "Bundle":
                raise FetchError("malformed")
            found = _bundle_resources(page)
            call.count_resources(len(found))
            resources.extend(found)
            next_url = _next_link(call.base, page)
        return resources

    # --- one HTTP GET, with retries

    def _get_json(self, call: _Call, url: httpx.URL) -> dict[str, Any]:
        """One GET, retried (tenacity) while the server answers 429/502/503/504, up to
        FHIR_RETRIES attempts and only while the wait fits in the call's deadline."""
        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self._settings.fhir_retries) | _StopPastDeadline(call),
            wait=_asked_delay,
            sleep=time.sleep,
            reraise=True,
        )
        try:
            return retrying(self._get_once, call, url)
        except _Retryable as exc:
            raise FetchError(_status_reason(exc.status)) from None

    def _get_once(self, call: _Call, url: httpx.URL) -> dict[str, Any]:
        remaining = call.remaining()
        timeout = min(self._settings.fhir_timeout_seconds, remaining)
        try:
            with self._client.stream("GET", url, headers=call.headers,
                                     timeout=timeout) as response:
                status = response.status_code
                if status == 200:
                    page, mended = _parse(self._read_capped(call, response))
                    call.count_mended(mended)
                    return page
                retry_after = response.headers.get("Retry-After")
        except httpx.TimeoutException:
            # cut short by the overall deadline, or the server was slower than allowed
            clipped = timeout < self._settings.fhir_timeout_seconds
            raise FetchError("deadline" if clipped else "timeout") from None
        except httpx.TransportError:
            raise FetchError("unreachable") from None
        if status in RETRYABLE_STATUSES:
            raise _Retryable(status, retry_after)
        raise FetchError(_status_reason(status))

    def _read_capped(self, call: _Call, response: httpx.Response) -> bytearray:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_response_bytes:
            raise FetchError("too large")
        body = bytearray()
        for chunk in response.iter_bytes(_CHUNK_BYTES):
            body += chunk
            if len(body) > self._max_response_bytes:
                raise FetchError("too large")
            call.remaining()
        return body


# --- pure helpers (module level so that the shell and tests can use them)


def allowed_base(
    fhir_server: str, allowed_bases: tuple[str, ...], *, allow_http_loopback: bool
) -> httpx.URL | None:
    """The normalised base URL if ``fhir_server`` may be contacted, else None."""
    server = _normalise(fhir_server)
    if server is None:
        return None
    if not any(_normalise(b) == server for b in allowed_bases):
        return None
    if server.scheme == "https":
        return server
    if server.scheme == "http" and allow_http_loopback and _is_loopback(server.host):
        return server
    return None


def _normalise(raw: str) -> httpx.URL | None:
    try:
        url = httpx.URL(raw.strip())
    except (httpx.InvalidURL, TypeError):
        return None
    if url.scheme not in {"http", "https"} or not url.host:
        return None
    if url.userinfo or url.query or url.fragment:
        return None
    return url.copy_with(path=url.path.rstrip("/") or "/")


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _under_base(base: httpx.URL, url: httpx.URL) -> bool:
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port) or url.userinfo:
        return False
    prefix = base.path.rstrip("/") + "/"
    return url.path.startswith(prefix) and ".." not in url.path.split("/")


def _query_url(base: httpx.URL, query: str) -> httpx.URL:
    """``base``/``query``, refused unless it stays under ``base`` (no scheme, ``//``, ``..``)."""
    query = query.strip()
    path = query.split("?", 1)[0]
    if not path or path.startswith("/") or ":" in path or "#" in query:
        raise FetchError("bad query")
    if any(c.isspace() for c in path) or any(ord(c) < 0x20 or ord(c) == 0x7F for c in query):
        raise FetchError("bad query")
    url = httpx.URL(str(base).rstrip("/") + "/" + query)
    if not _under_base(base, url):
        raise FetchError("bad query")
    return url


def _next_link(base: httpx.URL, bundle: dict[str, Any]) -> httpx.URL | None:
    link = next_link_entry(bundle)
    if link is None:
        return None
    href = link.get("url")
    if not isinstance(href, str) or not href:
        raise FetchError("malformed")
    try:
        url = base.join(href)
    except httpx.InvalidURL:
        raise FetchError("malformed") from None
    if not _under_base(base, url):
        raise FetchError("next link off server")
    return url


def _bundle_resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise FetchError("malformed")
    resources = []
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise FetchError("malformed")
        if resource["resourceType"] == "OperationOutcome":
            if is_error_outcome(resource):
                raise FetchError("operation outcome")
            continue  # search.mode = outcome: warnings and information about the search
        resources.append(resource)
    return resources


def _parse(body: bytearray) -> tuple[dict[str, Any], int]:
    """The page as a FHIR resource, and how many broken escapes were mended in it."""
    try:
        data, mended = loads_mending(body)
    except orjson.JSONDecodeError:
        raise FetchError("malformed") from None
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise FetchError("malformed")
    if data["resourceType"] == "OperationOutcome":
        raise FetchError("operation outcome")
    return data, mended


def _status_reason(status: int) -> str:
    if 300 <= status < 400:
        return "redirect"
    return _STATUS_REASONS.get(status, f"http {status}")


class _Retryable(Exception):
    """An answer worth another attempt (429/502/503/504), with the server's Retry-After."""

    def __init__(self, status: int, retry_after: str | None) -> None:
        super().__init__(status)
        self.status = status
        self.retry_after = retry_after


def _asked_delay(state: RetryCallState) -> float:
    """The wait before the next attempt: Retry-After (seconds or HTTP date), or backoff."""
    failure = state.outcome.exception() if state.outcome else None
    retry_after = failure.retry_after if isinstance(failure, _Retryable) else None
    if retry_after:
        value = retry_after.strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            pass
        else:
            return max(0.0, when.timestamp() - time.time())
    return float(_BACKOFF_SECONDS * 2 ** (state.attempt_number - 1))


class _StopPastDeadline(stop_base):
    """Give up when the wait the server asks for does not fit in the call's deadline."""

    def __init__(self, call: _Call) -> None:
        self.call = call

    def __call__(self, state: RetryCallState) -> bool:
        return _asked_delay(state) >= self.call.remaining()


def _resource_type(query: str) -> str:
    name = query.strip().split("?", 1)[0].split("/", 1)[0]
    return name if _RESOURCE_TYPE.fullmatch(name) else "other"


def _ordered(result: FetchResult, queries: Mapping[str, str]) -> FetchResult:
    """The result with keys in the order of ``queries`` (deterministic logs and audits)."""
    return FetchResult(
        resources={k: result.resources[k] for k in queries if k in result.resources},
        failed={k: result.failed[k] for k in queries if k in result.failed},
        mended=result.mended,
    )
