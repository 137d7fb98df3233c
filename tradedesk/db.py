"""Prepared statements for the hot statements, on PostgreSQL: the intake's two (the strategy
key's row, the signal with its audit row) and the order rows written with their audit rows
(tradedesk/audited.py: a follower order, any order's venue result, each fill).

Django turns psycopg's prepared statements off (`prepare_threshold=None`, for PgBouncer's
transaction mode) and binds parameters on the client, so every request quotes each value into
the SQL text and PostgreSQL parses and plans the statement again. A prepared statement is parsed
and planned once per pooled connection and takes its values apart from the text: less CPU in the
web process and in PostgreSQL for every signal (bench/README.md, "Signal intake"). The settings
set a `prepare_threshold` no query reaches, so only the statements run here are prepared
(DB_PREPARED=false: bound on the server, not prepared).
"""

import functools

from django.db import connection


def prepared_cursor():
    """A Django cursor whose statements PostgreSQL prepares on first use on this connection; a
    plain cursor on other databases. Queries are logged and errors wrapped as on any cursor."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_cursor_class()(connection.connection))


@functools.cache
def _cursor_class():
    # Imported here: the PostgreSQL backend needs psycopg, which the embedded desk does not.
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparedCursor
