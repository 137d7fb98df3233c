"""The browser flow's own error and session states (shared by session.py and lookup.py)."""

from executor.connectors.base import ErrorCode

LOGGED_IN, NEEDS_LOGIN, CAPTCHA, DOWN = "logged_in", "needs_login", "captcha", "down"


class FlowError(Exception):
    """A failure before the submit click (or in a lookup): nothing reached the venue."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
