"""Email addresses and display names as the web app accepts them.

The web app validates emails with zod's `.email()`; the same pattern here means an address one
side accepts, the other does too. Addresses are trimmed and lower-cased, as Better Auth stores them.
"""

from __future__ import annotations

import re

from workbench.crypto.secret import Secret
from workbench.errors import ValidationError

MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path

# zod's email pattern (v3 and v4), which Better Auth uses for sign-up.
_EMAIL = re.compile(
    r"(?!\.)(?!.*\.\.)[a-z0-9_'+\-.]*[a-z0-9_+-]@(?:[a-z0-9][a-z0-9\-]*\.)+[a-z]{2,}"
)


def normalize_email(email: str) -> str:
    """Return ``email`` trimmed and lower-cased, or raise :class:`ValidationError`.

    >>> normalize_email("  Ada@Example.COM ")
    'ada@example.com'
    """
    cleaned = email.strip().lower()
    if not cleaned:
        raise ValidationError("email is empty: give the address you sign in with.")
    if not is_email(cleaned):
        # Never echoed: with sign_in's arguments swapped this is the password, and the
        # message would carry it into the saved notebook. Say what is wrong instead.
        raise ValidationError(
            f"email is not a valid email address ({email_flaw(cleaned)}); expected something "
            "like ada@example.com. (The value is not shown, in case it was a password.)"
        )
    return cleaned


def email_flaw(cleaned: str) -> str:
    """What is wrong with an address, without quoting any of it."""
    if len(cleaned) > MAX_EMAIL_LENGTH:
        return f"{len(cleaned):,} characters, over the limit of {MAX_EMAIL_LENGTH}"
    if cleaned.count("@") != 1:
        return "it needs exactly one '@'"
    domain = cleaned.partition("@")[2]
    if "." not in domain:
        return "the part after '@' needs a dot, as in example.com"
    return "it has a character or form sign-up does not accept"


def checked_email(email: Secret) -> str:
    """`normalize_email` for a value that may be a password given in the wrong argument.

    Its text is only ever an expression here, so a verbose traceback shows `Secret('***')`.
    """
    if is_email(email.reveal().strip().lower()):
        return email.reveal().strip().lower()
    if not email.reveal().strip():
        raise ValidationError("email is empty: give the address you sign in with.")
    raise ValidationError(
        f"email is not a valid email address ({email_flaw(email.reveal().strip().lower())}); "
        "expected something like ada@example.com. (The value is not shown, in case it was a "
        "password.)"
    )


def is_email(text: str) -> bool:
    """Whether ``text`` (already trimmed and lower-cased) is an address sign-up would accept."""
    return len(text) <= MAX_EMAIL_LENGTH and _EMAIL.fullmatch(text) is not None


def normalize_name(name: str) -> str:
    """Return the display name trimmed, or raise :class:`ValidationError` when it is empty."""
    cleaned = name.strip()
    if not cleaned:
        raise ValidationError("name is empty: give the name other people should see, e.g. 'Ada'.")
    return cleaned
