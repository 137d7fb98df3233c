"""Pages of API lists: ?limit= and ?offset=, bounded so no value reaches the database as a number
it cannot take (an offset past 2**63 was a 500: SQLite "datatype mismatch")."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 1000
MAX_OFFSET = 10**12


class DeskPagination(LimitOffsetPagination):
    """A limit that is not a positive whole number falls back to PAGE_SIZE, one above MAX_LIMIT is
    cut to it (DRF's behaviour); an offset above MAX_OFFSET is a 400 naming it."""

    max_limit = MAX_LIMIT

    def get_offset(self, request) -> int:
        offset = super().get_offset(request)
        if offset > MAX_OFFSET:
            raise ValidationError({self.offset_query_param: [f"must be at most {MAX_OFFSET}."]})
        return offset

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": MAX_LIMIT},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
