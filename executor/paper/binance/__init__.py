"""The paper exchange speaking a subset of Binance's Spot REST API v3, over the same accounts,
matching engine and faults (see executor/paper/README.md, "Binance Spot API")."""
