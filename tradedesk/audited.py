"""Saving a row with its audit row (django-simple-history's) in one statement, on PostgreSQL.

A model's `save()` writes its row, then simple-history's post_save hook builds a historical
model instance and saves it: two statements, and about as much Python for the audit row as for
the row itself (resolving the user, building and saving a second model). Copy trading pays that
three times per follower order: the order's row, its result, and each fill, a thousand
times per master change with a thousand followers (bench/README.md, "Copy trading"). The
result and the fills are recorded this way for every order (orders.services), the desk's too;
the signal intake uses the same INSERT (`insert_statement`).

`save_audited(instance, reason=...)` writes what `save()` and the hook write. The audit row has
the same tracked columns, the reason, '+' for a new row or '~' for a change, the time, and the
request's user when a signed-in person's request is running. On PostgreSQL it is one
statement: `WITH new AS (INSERT … / UPDATE … RETURNING *) INSERT INTO <history> SELECT …`. The
statement is prepared once per pooled connection (tradedesk/db.py). On other databases it is
the instance's own `save()`, so the embedded desk's audit trail is simple-history's itself.
Constraints act as on `save()`: a refused row raises IntegrityError, no audit row is written,
and the caller's transaction, if any, can only be rolled back.

Only for models whose saves have no other post_save or pre_save receivers: the hooks are not
called.
"""

import functools
from dataclasses import dataclass

from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

from tradedesk.db import prepared_cursor

AUDIT_COLUMNS = ("history_date", "history_change_reason", "history_type", "history_user_id")


@dataclass(frozen=True)
class _Statements:
    fields: list[models.Field]  # the row's columns, written by the INSERT and the UPDATE
    insert: str  # the row's values, then the audit columns' values
    update: str  # the row's values, then the primary key, then the audit columns' values


@functools.cache
def _statements(model: type[models.Model]) -> _Statements:
    """Built once per model from its own table and column names, quoted; every value goes as a
    parameter."""
    quote = connection.ops.quote_name
    history = model.history.model
    tracked = [field.column for field in history.tracked_fields]
    audit_table = f"{quote(history._meta.db_table)} ({', '.join(quote(c) for c in [*tracked, *AUDIT_COLUMNS])})"
    audit_values = f"{', '.join('new.' + quote(c) for c in tracked)}, %s, %s, %s, %s"
    pk = quote(model._meta.pk.column)
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(quote(field.column) for field in fields)
    table = quote(model._meta.db_table)
    insert = (
        f"WITH new AS (INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) RETURNING *) "  # noqa: S608
        f"INSERT INTO {audit_table} SELECT {audit_values} FROM new RETURNING {pk}"
    )
    update = (
        f"WITH new AS (UPDATE {table} SET {', '.join(quote(f.column) + ' = %s' for f in fields)} "  # noqa: S608
        f"WHERE {pk} = %s RETURNING *) "
        f"INSERT INTO {audit_table} SELECT {audit_values} FROM new RETURNING {pk}"
    )
    return _Statements(fields=fields, insert=insert, update=update)


def insert_statement(model: type[models.Model]) -> tuple[list[models.Field], str]:
    """The one-statement INSERT of a new row with its audit row (PostgreSQL), and the fields whose
    values it takes first; then come the audit columns' values (AUDIT_COLUMNS' order). For a
    caller that runs it itself (the signal intake, which needs a savepoint of its own)."""
    statements = _statements(model)
    return statements.fields, statements.insert


def save_audited(instance: models.Model, *, reason: str) -> None:
    """Save `instance` (insert a new one, else update every column) with its audit row."""
    adding = instance._state.adding
    if connection.vendor != "postgresql" or (adding and instance.pk is not None):
        instance._change_reason = reason
        instance.save()
        return
    statements = _statements(type(instance))
    values = [field.get_db_prep_save(field.pre_save(instance, add=adding), connection) for field in statements.fields]
    audit = [timezone.now(), reason, "+" if adding else "~", _history_user_id(instance)]
    params = [*values, *audit] if adding else [*values, instance.pk, *audit]
    # As save(): no savepoint of its own (each is two more round trips); a refused row marks
    # the caller's transaction for rollback, and outside one the statement is atomic by itself.
    with transaction.mark_for_rollback_on_error():
        with prepared_cursor() as cursor:
            cursor.execute(statements.insert if adding else statements.update, params)
            row = cursor.fetchone()
    if row is None:
        raise DatabaseError(f"{type(instance).__name__} {instance.pk} is not in the database; nothing saved")
    if adding:
        instance.pk = row[0]
        instance._state.adding = False
        instance._state.db = connection.alias


def _history_user_id(instance: models.Model) -> int | None:
    """The user simple-history's hook would record: the instance's own `_history_user`, else a
    signed-in person whose request is running (HistoricalRecords' middleware), else none."""
    user = getattr(instance, "_history_user", None)
    if user is None:
        request = getattr(HistoricalRecords.context, "request", None)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
    return user.pk
