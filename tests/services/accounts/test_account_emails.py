from __future__ import annotations

import pytest

from workbench.errors import ValidationError
from workbench.services.accounts.emails import normalize_email, normalize_name


def test_email_is_trimmed_and_lower_cased() -> None:
    assert normalize_email("  Ada.Lovelace+ml@Example.CO.uk \n") == "ada.lovelace+ml@example.co.uk"


@pytest.mark.parametrize(
    "email",
    [
        "",
        "   ",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        ".ada@example.com",
        "ada..b@example.com",
        "ada@exa mple.com",
        "ada@example.c",
        f"{'a' * 250}@example.com",
    ],
)
def test_malformed_email_is_refused_naming_the_field(email: str) -> None:
    with pytest.raises(ValidationError, match="email"):
        normalize_email(email)


def test_name_is_trimmed_and_must_not_be_empty() -> None:
    assert normalize_name("  Ada ") == "Ada"
    with pytest.raises(ValidationError, match="name is empty"):
        normalize_name(" \t")
