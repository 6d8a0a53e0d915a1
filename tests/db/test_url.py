"""DATABASE_URL as the web app writes it."""

from __future__ import annotations

import pytest

from workbench.db.url import display, parse_database_url
from workbench.errors import ConfigError


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_both_schemes_are_accepted(scheme: str) -> None:
    url = parse_database_url(f"{scheme}://ada:pw@db.example.com:5433/app")
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql+psycopg",
        "db.example.com",
        5433,
        "app",
    )


def test_query_parameters_pass_through_as_neon_needs() -> None:
    url = parse_database_url(
        "postgresql://ada:pw@ep-x.neon.tech/neondb?sslmode=require&channel_binding=require"
    )
    assert dict(url.query) == {"sslmode": "require", "channel_binding": "require"}


def test_display_masks_the_password() -> None:
    url = parse_database_url("postgresql://ada:s3cret-pw@host/db")
    assert "s3cret-pw" not in display(url)
    assert "***" in display(url)


@pytest.mark.parametrize(
    "raw",
    ["mysql://ada:s3cret-pw@host/db", "not a url", "postgresql://ada:s3cret-pw@host:notaport/db"],
)
def test_unparsable_urls_name_the_variable_and_hide_the_password(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_database_url(raw)
    assert "DATABASE_URL" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
