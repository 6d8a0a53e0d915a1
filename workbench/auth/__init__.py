"""Signing in to the workbench, compatible with the web app's Better Auth accounts.

import workbench
wb = workbench.connect()                              # saved session, JupyterHub or local
wb = workbench.sign_in("ada@example.com", "correct horse")
wb.sign_out()
"""

from __future__ import annotations

from workbench.auth._entry import (
    connect,
    request_password_reset,
    reset_password,
    resume,
    sign_in,
    sign_up,
)
from workbench.services.accounts import AccountView, Message, Sender, print_sender

__all__ = [
    "AccountView",
    "Message",
    "Sender",
    "connect",
    "print_sender",
    "request_password_reset",
    "reset_password",
    "resume",
    "sign_in",
    "sign_up",
]
