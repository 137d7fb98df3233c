"""The trade page's generated-looking class names, element ids and field wording.

Like a site built with a CSS-in-JS toolchain, nothing carries a stable test hook: classes and
ids look generated. The layout_changed fault swaps in a second set (as after a redeploy of
the site's front end): other classes and ids, and the ticket's fields and button worded
differently, so a profile written for the first set no longer finds them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Markup:
    css: dict[str, str]
    ids: dict[str, str]
    words: dict[str, str]


NORMAL = Markup(
    css={
        "layout": "css-1x9k2",
        "market": "css-q81nd",
        "ticket": "css-7h2mz",
        "tabs": "css-9d0ar",
        "tab": "css-u2e5t",
        "field": "css-f4k1o",
        "input": "css-3vb8c",
        "suffix": "css-k0s7w",
        "dropdown": "css-b6x1q",
        "listbox": "css-0p3vj",
        "option": "css-c8n2e",
        "submit": "css-w5m4y",
        "buy": "css-g1r8b",
        "sell": "css-r9d2s",
        "error": "css-e7l3u",
        "summary": "css-s2t6a",
        "panel": "css-p5h0v",
        "panel_tabs": "css-t1y7c",
        "panel_body": "css-n4z9f",
    },
    ids={
        "form": "_r_1_",
        "type_button": "_r_2_",
        "type_list": "_r_3_",
        "price": "_r_4_",
        "amount": "_r_5_",
        "total": "_r_6_",
        "available": "_r_7_",
        "submit": "_r_8_",
        "panel": "_r_9_",
        "type_label": "_r_a_",
        "price_row": "_r_b_",
        "market_row": "_r_c_",
        "side_tabs": "_r_d_",
        "errors": "_r_e_",
    },
    words={
        "price": "Price",
        "amount": "Amount",
        "order_type": "Order type",
        "buy": "Buy {base}",
        "sell": "Sell {base}",
        "market_price": "Market price",
    },
)

RENAMED = Markup(
    css={
        "layout": "_wrap_8ac1",
        "market": "_mkt_31fe",
        "ticket": "_form_0b9d",
        "tabs": "_seg_c4a2",
        "tab": "_segbtn_77e0",
        "field": "_row_e19b",
        "input": "_inp_5d3c",
        "suffix": "_unit_a0f4",
        "dropdown": "_sel_2c6e",
        "listbox": "_menu_9f81",
        "option": "_item_4b07",
        "submit": "_btn_3fa1",
        "buy": "_pos_11c9",
        "sell": "_neg_8d2a",
        "error": "_err_6e35",
        "summary": "_sum_d80c",
        "panel": "_tbl_wrap_5a1b",
        "panel_tabs": "_tbl_tabs_0e7d",
        "panel_body": "_tbl_body_c3f2",
    },
    ids={
        "form": "fx-01",
        "type_button": "fx-02",
        "type_list": "fx-03",
        "price": "fx-04",
        "amount": "fx-05",
        "total": "fx-06",
        "available": "fx-07",
        "submit": "fx-08",
        "panel": "fx-09",
        "type_label": "fx-0a",
        "price_row": "fx-0b",
        "market_row": "fx-0c",
        "side_tabs": "fx-0d",
        "errors": "fx-0e",
    },
    words={
        "price": "Rate",
        "amount": "Quantity",
        "order_type": "Type",
        "buy": "Place buy order",
        "sell": "Place sell order",
        "market_price": "At the best rate",
    },
)
