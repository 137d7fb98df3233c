"""Binance's error answers: {"code": -NNNN, "msg": "..."} with Binance's codes, words and HTTP statuses
(binance-spot-api-docs errors.md)."""

from django.http import JsonResponse


class BinanceError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        response = JsonResponse({"code": self.code, "msg": self.msg}, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def too_much_weight(limit: int, retry_after: int) -> BinanceError:
    # Binance's 429 ("Limits"): the request was refused before it was acted on; Retry-After says
    # how many seconds to back off (going on regardless earns a 418 ban there; not served here).
    return BinanceError(
        -1003,
        f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
        429,
        {"Retry-After": str(retry_after)},
    )


def timeout() -> BinanceError:
    # A 5XX: the execution status is UNKNOWN (Binance's "HTTP Return Codes").
    return BinanceError(
        -1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown.", 503
    )


def too_many_parameters() -> BinanceError:
    return BinanceError(-1101, "Duplicate values for a parameter detected.")


def illegal_chars(name: str, legal: str) -> BinanceError:
    return BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def mandatory(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def one_of_mandatory(first: str, second: str) -> BinanceError:
    return BinanceError(-1102, f"Param '{first}' or '{second}' must be sent, but both were empty/null!")


def not_required(name: str) -> BinanceError:
    return BinanceError(-1106, f"Parameter '{name}' sent when not required.")


def invalid_tif() -> BinanceError:
    return BinanceError(-1115, "Invalid timeInForce.")


def invalid_order_type() -> BinanceError:
    return BinanceError(-1116, "Invalid orderType.")


def invalid_side() -> BinanceError:
    return BinanceError(-1117, "Invalid side.")


def invalid_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def bad_recv_window() -> BinanceError:
    return BinanceError(-1131, "recvWindow must be less than 60000")


def timestamp_ahead() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")


def timestamp_outside_window() -> BinanceError:
    return BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")


def bad_signature() -> BinanceError:
    return BinanceError(-1022, "Signature for this request is not valid.")


def filter_failure(filter_type: str) -> BinanceError:
    return BinanceError(-1013, f"Filter failure: {filter_type}")


def insufficient_balance() -> BinanceError:
    return BinanceError(-2010, "Account has insufficient balance for requested action.")


def duplicate_order() -> BinanceError:
    return BinanceError(-2010, "Duplicate order sent.")


def rejected(msg: str) -> BinanceError:
    return BinanceError(-2010, msg)


def unknown_order() -> BinanceError:
    return BinanceError(-2011, "Unknown order sent.")


def no_such_order() -> BinanceError:
    return BinanceError(-2013, "Order does not exist.")


def bad_api_key_format() -> BinanceError:
    return BinanceError(-2014, "API-key format invalid.", 401)


def rejected_api_key() -> BinanceError:
    return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)


def unknown_endpoint() -> BinanceError:
    return BinanceError(-1000, "An unknown error occurred while processing the request.", 404)


def unsupported_operation() -> BinanceError:
    # The WebSocket API's answer to a method it does not serve.
    return BinanceError(-1020, "This operation is not supported.")


def invalid_json() -> BinanceError:
    return BinanceError(-1135, "Invalid JSON Request")


def stream_already_subscribed() -> BinanceError:
    return BinanceError(-2035, "User Data Stream subscription already active.")


def stream_not_subscribed() -> BinanceError:
    return BinanceError(-2036, "User Data Stream subscription not active.")
