"""Every write the paper exchange makes; see the modules for the details."""

from executor.paper.services.accounts import (
    paper_account_create,
    paper_api_key_create,
    paper_binance_key_create,
    paper_binance_key_revoke,
    paper_login_check_password,
    paper_login_complete,
    paper_logout,
    paper_sessions_revoke,
)
from executor.paper.services.faults import paper_fault_clear, paper_fault_fire, paper_fault_set
from executor.paper.services.orders import paper_match_open_orders, paper_order_cancel, paper_order_place
from executor.paper.services.prices import paper_liquidity_set, paper_price_set

__all__ = [
    "paper_account_create",
    "paper_api_key_create",
    "paper_binance_key_create",
    "paper_binance_key_revoke",
    "paper_fault_clear",
    "paper_fault_fire",
    "paper_fault_set",
    "paper_login_check_password",
    "paper_liquidity_set",
    "paper_login_complete",
    "paper_logout",
    "paper_match_open_orders",
    "paper_order_cancel",
    "paper_order_place",
    "paper_price_set",
    "paper_sessions_revoke",
]
