"""Who may open ``/preview`` and ``/governance``.

Decision (README "Pages"): an operator credential, not the EHR's JWT. A CDS Hooks JWT is
minted by an EHR for one call to one URL (``aud``, single-use ``jti``); a person's browser
cannot present one. So:

- ``BACKPAIN_CDS_PAGES=auto`` (default): on only when ``ALLOW_UNAUTHENTICATED`` is set
  (``make run``, local use), and then open, like the API in that mode;
- ``on``: on; unless ``ALLOW_UNAUTHENTICATED``, every request must carry
  ``BACKPAIN_CDS_PAGES_TOKEN`` as the HTTP Basic password (any user name; the browser
  asks) or as ``Authorization: Bearer``. Start-up fails without a token of 32+ characters;
- ``off``: 404, as if the pages did not exist.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from flask import Response, current_app, request

from service.config import PREFIX, ConfigError, Settings
from service.errors import ServiceError, error_response

MIN_TOKEN_LENGTH = 32
REALM = 'Basic realm="backpain-cds pages", charset="UTF-8"'


@dataclass(frozen=True, slots=True)
class Gate:
    enabled: bool
    token: str  # empty: open (only when ALLOW_UNAUTHENTICATED)

    @classmethod
    def from_settings(cls, settings: Settings) -> Gate:
        if settings.pages == "off" or (settings.pages == "auto"
                                       and not settings.allow_unauthenticated):
            return cls(False, "")
        if settings.allow_unauthenticated:
            return cls(True, "")
        if len(settings.pages_token) < MIN_TOKEN_LENGTH:
            raise ConfigError(f"{PREFIX}PAGES=on needs {PREFIX}PAGES_TOKEN (an operator "
                              f"credential of at least {MIN_TOKEN_LENGTH} characters)")
        return cls(True, settings.pages_token)

    def check(self) -> Response | None:
        """``before_request`` of the guarded blueprints: 404 when off, 401 without the
        credential (the browser then asks for it), nothing when allowed."""
        if not self.enabled:
            raise ServiceError(404, "Not found. The pages are off: see BACKPAIN_CDS_PAGES.")
        if not self.token or _offered_matches(self.token):
            return None
        return error_response(401, "Unauthorized",
                              headers={"WWW-Authenticate": REALM, "Cache-Control": "no-store"})


def _offered_matches(token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    offered = ""
    if scheme.lower() == "bearer":
        offered = value.strip()
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        offered = decoded.partition(":")[2]
    return bool(offered) and hmac.compare_digest(offered.encode(), token.encode())


def guard() -> Response | None:
    """``before_request`` of the gated blueprints: this app's :class:`Gate` decides."""
    gate: Gate = current_app.extensions["backpain"]["pages_gate"]
    return gate.check()
