from __future__ import annotations

import socket

import pytest

from workbench.auth._jupyterhub import hub_configured, hub_user_name
from workbench.errors import AuthError, ConfigError

from .conftest import HubStandIn


def test_the_hub_is_asked_who_owns_the_token(hub: HubStandIn) -> None:
    assert hub_user_name() == "alice"
    assert hub.authorizations == ["token alice-token"]


def test_a_refused_token_is_an_auth_error_naming_the_variable_not_the_token(
    hub: HubStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "stolen-or-stale-token")
    with pytest.raises(AuthError, match="JUPYTERHUB_API_TOKEN") as refused:
        hub_user_name()
    assert "stolen-or-stale-token" not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_an_unreachable_hub_is_a_config_error_naming_the_url_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("JUPYTERHUB_API_URL", f"http://127.0.0.1:{port}/hub/api")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "secret-token-value")
    with pytest.raises(ConfigError, match="Could not reach JupyterHub at JUPYTERHUB_API_URL") as e:
        hub_user_name()
    assert "secret-token-value" not in str(e.value)


def test_an_answer_without_a_user_name_is_a_config_error(hub: HubStandIn) -> None:
    hub.body = b"<html>not the API</html>"
    with pytest.raises(ConfigError, match="without a user name"):
        hub_user_name()


def test_only_http_hub_urls_are_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_API_URL", "file:///etc")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t")
    with pytest.raises(ConfigError, match="must be an http"):
        hub_user_name()


def test_hub_mode_needs_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:1/hub/api")
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    assert not hub_configured()
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t")
    assert hub_configured()
