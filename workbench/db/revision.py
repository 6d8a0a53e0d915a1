"""The Alembic revision this code needs, known without loading Alembic (import stays fast).

A test checks it equals the head of `migrations/versions`.
"""

HEAD_REVISION = "0011_ledger_hot"
