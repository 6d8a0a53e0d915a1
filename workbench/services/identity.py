"""`SignedInUser`: who a handle and its services act for. Sits below the services that return it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SignedInUser:
    """Who the handle belongs to: public profile fields only, never credentials."""

    id: str
    email: str
    name: str
