"""Shared page helpers: safe Markdown, the site's rule settings, the Jinja environment bits.

Card details are Markdown written by the core; pasted bundles can put patient-supplied
text into them (a display, a note). Raw HTML is therefore never passed through: markdown-it
runs with ``html`` off (tags are shown as text) and its link validator refuses
``javascript:``, ``vbscript:``, ``file:`` and ``data:`` URLs (except images).
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app
from markdown_it import MarkdownIt
from markupsafe import Markup

from cds_rules import RuleSettings


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown(text: str) -> Markup:
    """Markdown to HTML with every raw tag escaped (safe to insert into a page)."""
    return Markup(_markdown().render(text or ""))


def safe_url(url: object) -> str | None:
    """An http(s) URL to show as a link, or None (then it is shown as text only)."""
    if not isinstance(url, str):
        return None
    return url if urlsplit(url).scheme in {"http", "https"} else None


def site_rule_settings() -> RuleSettings:
    """This site's thresholds (``BACKPAIN_CDS_*``), as the hook endpoints use them."""
    return current_app.extensions["backpain"]["settings"].rule_settings()


def pages_on() -> bool:
    gate = current_app.extensions["backpain"].get("pages_gate")
    return bool(gate and gate.enabled)


def template_globals() -> dict[str, Any]:
    return {"markdown": markdown, "safe_url": safe_url, "pages_on": pages_on}


def init_jinja(app: Flask) -> None:
    app.jinja_env.globals.update(template_globals())
