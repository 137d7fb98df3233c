"""The bound of a row id: PostgreSQL's bigint (and SQLite's integer) hold at most 2**63 - 1.

An id from a URL, a filter or a form is checked against it before it reaches a query: past it
the database driver overflows (a 500) instead of finding nothing.
"""

MAX_ID = 2**63 - 1


def is_row_id(value: int) -> bool:
    """True for an id a row can have (1 .. MAX_ID)."""
    return 0 < value <= MAX_ID
