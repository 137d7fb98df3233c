"""From a profile's locator to a Playwright locator, and reading fields off elements."""

from __future__ import annotations

import json
import re
from typing import Any

from executor.browser.profile import FieldSpec, Locator, render

# Marks every element a locator matches now, in the page's memory (an expando property, not a
# DOM attribute the site could see or copy): after the submit click only unmarked elements
# count, so a notice left from an earlier order never answers for this one.
MARK_SEEN_JS = "els => els.forEach(el => { el.__tradedeskSeen = true; })"
# Indexes of the matching elements that were not there before the click and are visible.
FRESH_JS = """els => els.map((el, i) => (!el.__tradedeskSeen && el.getClientRects().length > 0
  && (el.innerText || '').trim() !== '') ? i : -1).filter(i => i >= 0)"""


def locate(scope, locator: Locator, values: dict[str, Any]):
    """`scope` is the page or a locator (a row); placeholders are filled from `values`."""
    if locator.within is not None:
        scope = locate(scope, locator.within, values)
    value = render(locator.value, values)
    if locator.kind == "css":
        found = scope.locator(value)
    elif locator.kind == "role":
        name = render(locator.name, values) if locator.name else None
        found = scope.get_by_role(value, name=name, exact=locator.exact) if name else scope.get_by_role(value)
    elif locator.kind == "label":
        found = scope.get_by_label(value, exact=locator.exact)
    elif locator.kind == "text":
        found = scope.get_by_text(value, exact=locator.exact)
    elif locator.kind == "placeholder":
        found = scope.get_by_placeholder(value, exact=locator.exact)
    else:
        found = scope.get_by_title(value, exact=locator.exact)
    if locator.has_text:
        found = found.filter(has_text=render(locator.has_text, values))
    if locator.nth is not None:
        found = found.last if locator.nth == -1 else found.nth(locator.nth)
    return found


def apply_pattern(pattern: str, text: str) -> str:
    if not pattern:
        return text.strip()
    match = re.search(pattern, text)
    if not match:
        return ""
    return (match.group(1) if match.groups() else match.group(0)).strip()


def read_field(spec: FieldSpec, scope, values: dict[str, Any], element=None) -> str:
    """A field inside `scope` (the page or a row); no locator means `element` (or the scope)."""
    target = locate(scope, spec.locator, values).first if not spec.locator.empty else (element or scope)
    text = (target.get_attribute(spec.attribute) or "") if spec.attribute else target.inner_text()
    return apply_pattern(spec.pattern, text)


def json_path(body: str, path: str) -> str:
    """'order.id' in a JSON body; empty when the body is not JSON or has no such key."""
    try:
        value: Any = json.loads(body)
    except ValueError:
        return ""
    for key in path.split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return ""
    return "" if value is None or isinstance(value, dict | list) else str(value)


def error_text(body: str) -> str:
    """The reason in an HTTP error body: a JSON message/error/detail, else the text itself."""
    try:
        data = json.loads(body)
    except ValueError:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()[:300]
    if isinstance(data, dict):
        for key in ("message", "error", "detail", "reason", "msg"):
            if isinstance(data.get(key), str):
                code = data.get("code")
                return f"{code}: {data[key]}" if isinstance(code, str) and code else data[key]
            if isinstance(data.get(key), dict):
                return error_text(json.dumps(data[key]))
    return json.dumps(data)[:300]
