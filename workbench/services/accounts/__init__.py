"""Accounts, compatible with Better Auth: passwords, sessions, verification tokens, throttling.

`AccountService` is what a signed-in user reaches as `wb.account`; the modules beside it are the
building blocks `workbench.auth` signs people in with.
"""

from __future__ import annotations

from workbench.services.accounts.service import AccountService, AccountView
from workbench.services.accounts.verification import Message, Sender, print_sender

__all__ = ["AccountService", "AccountView", "Message", "Sender", "print_sender"]
