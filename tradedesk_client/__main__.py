"""Command line: `python -m tradedesk_client send|resend|pending` (API_BASE_URL, API_KEY from the env)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from tradedesk_client.client import DEFAULT_OUTBOX, DeliveryFailed, SignalRejected, TradeDeskClient
from tradedesk_client.outbox import Outbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tradedesk_client", description=__doc__)
    parser.add_argument("--outbox", help="outbox file (default: TRADEDESK_OUTBOX or ./tradedesk-outbox.jsonl)")
    commands = parser.add_subparsers(dest="command", required=True)

    send = commands.add_parser("send", help="post one signal; prints its id")
    send.add_argument("--symbol", required=True)
    send.add_argument("--side", required=True, choices=["BUY", "SELL"])
    send.add_argument("--qty", required=True, dest="suggest_qty")
    send.add_argument("--price", dest="suggest_price", help="suggested price (omit for market)")
    send.add_argument("--strategy", required=True, dest="strategy_name")
    send.add_argument("--reason", default="")
    send.add_argument("--key", dest="idempotency_key", help="Idempotency-Key (default: a new one)")

    resend = commands.add_parser("resend", help="send what the outbox holds, each once")
    resend.add_argument("--max-age", type=float, help="mark signals older than this many seconds expired instead")

    commands.add_parser("pending", help="list what the outbox holds (JSON lines)")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.command == "pending":  # reads the local file only: needs no desk and no key
        path = args.outbox or os.environ.get("TRADEDESK_OUTBOX", DEFAULT_OUTBOX)
        for entry in Outbox(path).pending() if path else []:
            print(json.dumps({**entry, "queued_at": entry["queued_at"].isoformat()}, default=str))
        return 0
    kwargs = {"outbox": args.outbox} if args.outbox else {}
    try:
        client = TradeDeskClient.from_env(**kwargs)
    except ValueError as exc:  # API_BASE_URL, API_KEY or TRADEDESK_TIMEOUT missing or wrong
        parser.error(str(exc))

    if args.command == "send":
        fields = {k: v for k, v in vars(args).items() if k not in ("command", "outbox")}
        try:
            print(client.send_signal(**fields))
        except SignalRejected as rejected:
            print(json.dumps({"code": rejected.code, "message": rejected.message, "fields": rejected.fields}))
            return 2
        except DeliveryFailed as failed:
            print(failed, file=sys.stderr)
            return 3
        return 0
    report = client.resend(max_age=args.max_age)
    for sent in report.sent:
        print(f"sent {sent.idempotency_key} -> signal {sent.id}{' (already at the desk)' if sent.replayed else ''}")
    for key, rejected in report.rejected:
        print(f"rejected {key}: {rejected}")
    for key in report.expired:
        print(f"expired {key}")
    for key in report.still_pending:
        print(f"still pending {key}")
    return 1 if report.still_pending else 0


if __name__ == "__main__":
    sys.exit(main())
