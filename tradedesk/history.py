"""The audit trail's history manager (django-simple-history's `history_manager` option).

simple-history's `history` descriptor builds its manager class with `Manager.from_queryset()`
on every access, and every historical row it writes (`post_save`) reads that descriptor once:
`from_queryset` walks the queryset class's methods and makes a new class, about 0.15-0.3 ms of
CPU per audited save, paid three times per copy-trading order. The class built depends only on
the manager and queryset classes, so this manager builds it once per pair; the rows written, the
history queries and the admin's history pages are the same.

Use it as `HistoricalRecords(history_manager=HistoryManager)` on models saved on a hot path.
"""

import functools

from simple_history.manager import HistoryManager as BaseHistoryManager


class HistoryManager(BaseHistoryManager):
    @classmethod
    @functools.cache
    def from_queryset(cls, queryset_class, class_name=None):
        return super().from_queryset(queryset_class, class_name)
