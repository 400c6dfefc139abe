"""Money: prices, metering of every call, the ledger, and the shared store.

The store holds usage, reservations, budgets and the batch index (SQLite by default).
"""
