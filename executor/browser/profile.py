"""Exchange profiles: the declarative description of a venue's website (YAML).

See executor/profiles/paper.yaml for the shipped example and the README for the format.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

ACTIONS = ("goto", "fill", "click", "check", "select", "wait")
BUILTIN_DIR = Path(__file__).resolve().parent.parent / "profiles"


class ProfileError(ValueError):
    """A profile file is missing or malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Step:
    action: str
    target: str  # a selector, or for goto the name of a URL
    value: str = ""
    when: dict[str, str] = field(default_factory=dict)
    submit: bool = False
    reuse: bool = False  # goto only: stay on the page if the browser is already there

    def applies(self, values: dict[str, str]) -> bool:
        return all(str(values.get(key, "")) == str(expected) for key, expected in self.when.items())


@dataclass(frozen=True)
class FieldSpec:
    """Where to read a value: an element's text, or an attribute (of the element or row)."""

    selector: str = ""
    attribute: str = ""


@dataclass(frozen=True)
class Timeouts:
    step: float = 5.0
    navigation: float = 15.0
    result: float = 10.0


@dataclass(frozen=True)
class Profile:
    name: str
    base_url: str
    symbol_format: str
    timeouts: Timeouts
    retries: int
    urls: dict[str, str]
    states: dict[str, str]
    login: tuple[Step, ...]
    place_order: tuple[Step, ...]
    result: dict[str, Any]
    find_order: dict[str, Any]
    source: str = ""

    def venue_symbol(self, symbol: str) -> str:
        base, _, quote = symbol.partition("/")
        return self.symbol_format.format(base=base, quote=quote)


def render(template: str, values: dict[str, Any]) -> str:
    """Fill {placeholders}; a placeholder with no value is a profile error, not a blank."""
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    missing = [name for name in names if name not in values]
    if missing:
        raise ProfileError(f"unknown placeholder(s) {missing} in {template!r}")
    return template.format_map(values)


_ENV_RE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


def expand_env(text: str) -> str:
    """${NAME} and ${NAME:-default} in a profile value come from the environment."""
    return _ENV_RE.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), text)


def load_profile(name: str) -> Profile:
    for directory in [*map(Path, settings.EXCHANGE_PROFILE_DIRS), BUILTIN_DIR]:
        path = directory / f"{name}.yaml"
        if path.exists():
            return parse_profile(path.read_text(), source=str(path))
    raise ProfileError(f"no exchange profile named {name!r} (looked in EXCHANGE_PROFILE_DIRS and {BUILTIN_DIR})")


def parse_profile(text: str, source: str = "<profile>") -> Profile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile is a mapping of keys")

    def need(key: str, kind: type) -> Any:
        if not isinstance(data.get(key), kind):
            raise ProfileError(f"{source}: '{key}' is required and must be a {kind.__name__}")
        return data[key]

    place = _steps(need("place_order", list), f"{source}: place_order")
    if sum(step.submit for step in place) != 1:
        raise ProfileError(f"{source}: place_order needs exactly one step marked 'submit: true'")
    result = need("result", dict)
    for key in ("success", "error"):
        if not isinstance(result.get(key), str):
            raise ProfileError(f"{source}: result.{key} (a selector) is required")
    find = need("find_order", dict)
    for key in ("goto", "row", "status"):
        if key not in find:
            raise ProfileError(f"{source}: find_order.{key} is required")
    urls = need("urls", dict)
    for step in place:
        if step.action == "goto" and step.target not in urls:
            raise ProfileError(f"{source}: place_order goes to '{step.target}', which is not in urls")
    return Profile(
        name=need("name", str),
        base_url=expand_env(str(data.get("base_url", ""))).rstrip("/"),
        symbol_format=str(data.get("symbol_format", "{base}/{quote}")),
        timeouts=Timeouts(**{k: float(v) for k, v in (data.get("timeouts") or {}).items()}),
        retries=int(data.get("retries", 1)),
        urls=urls,
        states=dict(data.get("states") or {}),
        login=_steps(data.get("login") or [], f"{source}: login"),
        place_order=place,
        result={
            **result,
            "order_id": _field(result.get("order_id")),
            "duplicate_codes": result.get("duplicate_codes", []),
        },
        find_order={**find, "order_id": _field(find.get("order_id")), "status": _field(find["status"])},
        source=source,
    )


def _field(spec: Any) -> FieldSpec:
    if spec is None:
        return FieldSpec()
    if isinstance(spec, str):
        return FieldSpec(selector=spec)
    if isinstance(spec, dict):
        return FieldSpec(selector=str(spec.get("selector", "")), attribute=str(spec.get("attribute", "")))
    raise ProfileError(f"a field must be a selector or {{selector, attribute}}, got {spec!r}")


def _steps(raw: list, where: str) -> tuple[Step, ...]:
    steps = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or len(item) != 1:
            raise ProfileError(f"{where}[{index}]: a step is one action, e.g. {{click: '#submit'}}")
        action, spec = next(iter(item.items()))
        if action not in ACTIONS:
            raise ProfileError(f"{where}[{index}]: unknown action '{action}'; use one of {', '.join(ACTIONS)}")
        if isinstance(spec, str):
            spec = {"selector": spec}
        if action == "goto" and "url" in spec:
            spec = {**spec, "selector": spec["url"]}
        if not isinstance(spec, dict) or not (spec.get("selector") or action == "goto"):
            raise ProfileError(f"{where}[{index}]: '{action}' needs a selector")
        steps.append(
            Step(
                action=action,
                target=str(spec.get("selector") or spec.get("url", "")),
                value=str(spec.get("value", "")),
                when={str(k): str(v) for k, v in (spec.get("when") or {}).items()},
                submit=bool(spec.get("submit", False)),
                reuse=bool(spec.get("reuse", False)),
            )
        )
    return tuple(steps)
