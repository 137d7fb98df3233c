"""A real mouse click (and a fill) with the actionability checks done in the page, in one call.

Playwright's click checks that the element is visible, enabled and stable (its box the same over
two animation frames), then that the click point hits it, and blocks the mouse events if they
land on something else. Headless Chromium draws at 60 Hz and only when asked, so the two frames
cost ~29 ms of each ~42 ms click on this machine (bench/README.md, "Order placement").

`quick_click` makes the same checks from what the page knows at once: visible, enabled, no CSS
or Web animation running on the element or an ancestor (what moves an element in practice;
movement from a script is caught by the hit test), the center of its box inside the viewport
and the element topmost there. It then arms the same guard as Playwright's (the first trusted
mouse event must reach the element, else that event and the rest are cancelled before the page
sees them), sends a real mouse move, press and release at that point, and reads the guard.
Anything it cannot vouch for (a frame, a shadow root, zoom, an element covered, moving, disabled
or outside the viewport, a guard that blocked the events) returns False with nothing clicked,
and the caller makes Playwright's own click, which waits and reports what is in the way.
"""

from __future__ import annotations

import logging
import weakref

from playwright.sync_api import Error as PlaywrightError

logger = logging.getLogger(__name__)

# Where the guard lives while armed: a property of the page's window, read back and removed
# right after the click (a fresh document after a navigation has none: see STOP_JS).
GUARD = "__tradedeskClickGuard"

# Run with evaluate_all (one call: the query and the checks in the page; a locator's evaluate
# costs three times as long): anything but exactly one match is Playwright's to wait for or refuse.
ARM_JS = """(els, guard) => {
  if (els.length !== 1) return `${els.length} matches`;
  const el = els[0];
  if (window !== window.top) return 'in a frame';
  if (el.getRootNode() !== document) return 'in a shadow root';
  if (window.visualViewport && window.visualViewport.scale !== 1) return 'zoomed';
  if (!el.isConnected || !el.checkVisibility({visibilityProperty: true})) return 'not visible';
  if (el.matches(':disabled') || el.closest('[aria-disabled="true"]')) return 'disabled';
  if (el.closest('[inert]')) return 'inert';
  const moving = document.getAnimations().some(a => a.playState === 'running' && a.effect
    && a.effect.target instanceof Node && a.effect.target.contains(el));
  if (moving) return 'animating';
  const box = el.getBoundingClientRect();
  if (box.width < 1 || box.height < 1) return 'not visible';
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  if (x < 0 || y < 0 || x >= window.innerWidth || y >= window.innerHeight) return 'outside the viewport';
  const hit = document.elementFromPoint(x, y);
  if (!hit || !(hit === el || el.contains(hit))) return 'covered';
  if (window[guard]) window[guard]();
  const types = ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click', 'auxclick', 'dblclick'];
  let result;
  const listener = event => {
    if (!event.isTrusted) return;
    if (result === undefined) result = event.composedPath().includes(el) ? 'done' : 'blocked';
    if (result !== 'done') {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  };
  types.forEach(type => window.addEventListener(type, listener, true));
  window[guard] = () => {
    types.forEach(type => window.removeEventListener(type, listener, true));
    delete window[guard];
    return result || 'no event';
  };
  return {x, y};
}"""
# 'gone': the click's own navigation replaced the document (Playwright counts that as done too).
STOP_JS = "guard => window[guard] ? window[guard]() : 'gone'"


def quick_click(page, target) -> bool:
    """Click `target` at once if it is one element the page shows clickable now; False means
    nothing was clicked (no event reached the page's handlers)."""
    armed = _evaluate(target, ARM_JS, GUARD)
    if not isinstance(armed, dict):
        logger.debug("quick click skipped: %s", armed)
        return False
    try:
        _press(page, armed["x"], armed["y"])
    finally:
        try:
            outcome = page.evaluate(STOP_JS, GUARD)
        except PlaywrightError:
            outcome = "gone"  # the document went away mid-call: a navigation the click started
    if outcome == "blocked":
        logger.debug("quick click blocked: the events did not reach the element")
        return False
    if outcome == "no event":
        # Nothing reached this document's window: the point was covered by a frame that came
        # between the check and the press; the press went to that frame, not to this element.
        logger.debug("quick click: no event reached the page")
        return False
    return True


# Playwright's fill of a text-like field, in one call: one match, visible, enabled, editable and
# not inert (its checks; fills wait for no frame), then select what it holds and focus it. The
# caller types the text over the selection (Input.insertText, as Playwright does). Other fields
# (date, color, contenteditable...) and an empty value are left to Playwright's fill.
FILL_JS = """(els, value) => {
  if (els.length !== 1) return `${els.length} matches`;
  const el = els[0];
  const typed = ['', 'text', 'search', 'tel', 'url', 'email', 'password', 'number'];
  const input = el.tagName === 'INPUT' && typed.includes(el.type.toLowerCase());
  if (!input && el.tagName !== 'TEXTAREA') return 'not a text field';
  if (el.type === 'number' && isNaN(Number(value.trim()))) return 'not a number';
  if (!value) return 'empty value';
  if (!el.isConnected || !el.checkVisibility({visibilityProperty: true})) return 'not visible';
  const box = el.getBoundingClientRect();
  if (box.width < 1 || box.height < 1) return 'not visible';
  if (el.matches(':disabled') || el.closest('[aria-disabled="true"]')) return 'disabled';
  if (el.readOnly) return 'read-only';
  if (el.closest('[inert]')) return 'inert';
  if (input) el.select(); else el.setSelectionRange(0, el.value.length);
  el.focus();
  if (document.activeElement !== el) return 'not focused';
  return {text: el.type === 'number' ? value.trim() : value};
}"""


def quick_fill(page, target, text: str) -> bool:
    """Fill `target` with `text` in two calls if it is one plain text field ready for typing;
    False means nothing was typed (the caller uses Playwright's fill)."""
    ready = _evaluate(target, FILL_JS, text)
    if not isinstance(ready, dict):
        logger.debug("quick fill skipped: %s", ready)
        return False
    _session(page).send("Input.insertText", {"text": ready["text"]})
    return True


def _evaluate(target, script: str, argument):
    """The check's answer, or why there is none: a page that is navigating (the last click's
    doing) has no document to check; Playwright's own action waits for the next one."""
    try:
        return target.evaluate_all(script, argument)
    except PlaywrightError as exc:
        return str(exc).splitlines()[0]


def _session(page):
    session = _sessions.get(page)
    if session is None:
        session = _sessions[page] = page.context.new_cdp_session(page)
    return session


def _press(page, x: float, y: float) -> None:
    """Press and release the left button at (x, y). No move first: Chromium hands a mouse move to
    the page only at its next animation frame (up to 17 ms headless), while a press is hit-tested
    at its own point at once (and the page gets its mouseover/enter then, as after a move)."""
    session = _session(page)
    for kind, buttons in (("mousePressed", 1), ("mouseReleased", 0)):
        event = {"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1}
        session.send("Input.dispatchMouseEvent", event)


# One DevTools session per page for the presses (Chromium's Input domain), gone with the page.
_sessions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
