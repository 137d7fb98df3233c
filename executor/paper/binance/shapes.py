"""Paper rows in Binance's JSON shapes (rest-api.md): symbols, orders, fills, trades, the account."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings

from executor.paper.models import OrderSide, OrderType, PaperInstrument, PaperOrder, PaperTrade

MAX_PRICE = Decimal("1000000")
MAX_QTY = Decimal("9000")
PRECISION = 8
EIGHT = Decimal("1e-8")


def dec(value: Decimal | None) -> str:
    """Binance's decimal strings: eight places, "65000.00000000".

    Here rather than in wire.py, so the services can build the stream's events (user_data.py)
    without importing wire, which imports the services."""
    return format((value or Decimal(0)).quantize(EIGHT), "f")


def binance_symbol(symbol: str) -> str:
    """BTC-USDT → BTCUSDT."""
    return symbol.replace("-", "")


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def filters(instrument: PaperInstrument) -> list[dict]:
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": dec(instrument.tick_size),
            "maxPrice": dec(MAX_PRICE),
            "tickSize": dec(instrument.tick_size),
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": dec(instrument.min_qty),
            "maxQty": dec(MAX_QTY),
            "stepSize": dec(instrument.lot_size),
        },
        {
            "filterType": "MARKET_LOT_SIZE",
            "minQty": dec(instrument.min_qty),
            "maxQty": dec(MAX_QTY),
            "stepSize": dec(instrument.lot_size),
        },
        {
            "filterType": "NOTIONAL",
            "minNotional": dec(instrument.min_notional),
            "applyMinToMarket": True,
            "maxNotional": dec(Decimal("9000000")),
            "applyMaxToMarket": False,
            "avgPriceMins": 0,
        },
    ]


def symbol_info(instrument: PaperInstrument) -> dict:
    return {
        "symbol": binance_symbol(instrument.symbol),
        "status": "TRADING",
        "baseAsset": instrument.base_asset,
        "baseAssetPrecision": PRECISION,
        "quoteAsset": instrument.quote_asset,
        "quotePrecision": PRECISION,
        "quoteAssetPrecision": PRECISION,
        "baseCommissionPrecision": PRECISION,
        "quoteCommissionPrecision": PRECISION,
        "orderTypes": ["LIMIT", "MARKET"],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": filters(instrument),
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "NONE",
        "allowedSelfTradePreventionModes": ["NONE"],
    }


def rate_limits(weight_limit: int) -> list[dict]:
    """exchangeInfo's rateLimits: the request weight limit is the one enforced (wire.weights);
    the order and raw-request limits are Binance's published ones, reported only."""
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": weight_limit},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ]


def _price(order: PaperOrder) -> str:
    return dec(order.price if order.order_type == OrderType.LIMIT else Decimal(0))


def _core(order: PaperOrder) -> dict:
    return {
        "symbol": binance_symbol(order.symbol),
        "orderId": order.pk,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
    }


def _state(order: PaperOrder) -> dict:
    return {
        "price": _price(order),
        "origQty": dec(order.qty),
        "executedQty": dec(order.filled_qty),
        "cummulativeQuoteQty": dec(order.filled_quote),
        "status": order.status,
        "timeInForce": order.time_in_force or "GTC",
        "type": order.order_type,
        "side": order.side,
    }


def order_ack(order: PaperOrder) -> dict:
    return {**_core(order), "transactTime": ms(order.updated_at)}


def order_result(order: PaperOrder) -> dict:
    return {
        **order_ack(order),
        **_state(order),
        "origQuoteOrderQty": dec(order.quote_order_qty),
        "workingTime": ms(order.created_at),
        "selfTradePreventionMode": "NONE",
    }


def fill(trade: PaperTrade) -> dict:
    return {
        "price": dec(trade.price),
        "qty": dec(trade.qty),
        "commission": dec(trade.fee),
        "commissionAsset": trade.fee_asset,
        "tradeId": trade.pk,
    }


def order_full(order: PaperOrder) -> dict:
    return {**order_result(order), "fills": [fill(trade) for trade in order.trades.order_by("id")]}


def order_query(order: PaperOrder) -> dict:
    return {
        **_core(order),
        **_state(order),
        "stopPrice": dec(Decimal(0)),
        "icebergQty": dec(Decimal(0)),
        "time": ms(order.created_at),
        "updateTime": ms(order.updated_at),
        "isWorking": True,
        "workingTime": ms(order.created_at),
        "origQuoteOrderQty": dec(order.quote_order_qty),
        "selfTradePreventionMode": "NONE",
    }


def order_canceled(order: PaperOrder, cancel_client_order_id: str) -> dict:
    return {
        "symbol": binance_symbol(order.symbol),
        "origClientOrderId": order.client_order_id,
        "orderId": order.pk,
        "orderListId": -1,
        "clientOrderId": cancel_client_order_id,
        "transactTime": ms(order.updated_at),
        **_state(order),
        "origQuoteOrderQty": dec(order.quote_order_qty),
        "selfTradePreventionMode": "NONE",
    }


def my_trade(trade: PaperTrade) -> dict:
    return {
        "symbol": binance_symbol(trade.symbol),
        "id": trade.pk,
        "orderId": trade.order_id,
        "orderListId": -1,
        "price": dec(trade.price),
        "qty": dec(trade.qty),
        "quoteQty": dec(trade.quote_qty),
        "commission": dec(trade.fee),
        "commissionAsset": trade.fee_asset,
        "time": ms(trade.created_at),
        "isBuyer": trade.side == OrderSide.BUY,
        "isMaker": trade.is_maker,
        "isBestMatch": True,
    }


def commission_bps(rate: Decimal) -> int:
    """Binance's makerCommission/takerCommission: the rate in hundredths of a percent (0.001 → 10)."""
    return int(rate * 10000)


def account(account, balances) -> dict:
    maker = Decimal(str(settings.PAPER_MAKER_FEE_RATE))
    taker = Decimal(str(settings.PAPER_TAKER_FEE_RATE))
    return {
        "makerCommission": commission_bps(maker),
        "takerCommission": commission_bps(taker),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {"maker": dec(maker), "taker": dec(taker), "buyer": dec(0), "seller": dec(0)},
        "canTrade": account.is_active,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": ms(account.created_at),
        "accountType": "SPOT",
        "balances": [{"asset": row.asset, "free": dec(row.free), "locked": dec(row.locked)} for row in balances],
        "permissions": ["SPOT"],
        "uid": account.pk,
    }
