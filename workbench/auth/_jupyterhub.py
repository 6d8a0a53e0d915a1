"""Asking JupyterHub who the kernel's user is: `GET {JUPYTERHUB_API_URL}/user`.

JupyterHub starts every single-user server with `JUPYTERHUB_API_URL` and a token scoped to that
user in `JUPYTERHUB_API_TOKEN`; the hub answers `/user` with the token owner's model. Errors
name the variables and never repeat the token.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from workbench.errors import AuthError, ConfigError, quoted

URL_VARIABLE = "JUPYTERHUB_API_URL"
TOKEN_VARIABLE = "JUPYTERHUB_API_TOKEN"
TIMEOUT_SECONDS = 10


def hub_configured() -> bool:
    """Whether this kernel runs under JupyterHub: both variables are set."""
    return all(os.environ.get(name, "").strip() for name in (URL_VARIABLE, TOKEN_VARIABLE))


def hub_user_name() -> str:
    """The hub user this kernel belongs to, as the hub reports it (needs `hub_configured()`)."""
    api_url = os.environ.get(URL_VARIABLE, "").strip().rstrip("/")
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if urlsplit(api_url).scheme not in ("http", "https"):
        raise ConfigError(f"{URL_VARIABLE} must be an http(s) URL (got {quoted(api_url)}).")
    request = urllib.request.Request(
        f"{api_url}/user", headers={"Authorization": f"token {token}", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            raise AuthError(
                f"JupyterHub refused {TOKEN_VARIABLE} (HTTP {error.code} from {api_url}/user): "
                "restart your server from the hub's control panel for a fresh token."
            ) from None
        raise ConfigError(
            f"JupyterHub at {URL_VARIABLE}={api_url} answered HTTP {error.code} for /user."
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ConfigError(
            f"Could not reach JupyterHub at {URL_VARIABLE}={api_url} ({reason}); check the hub "
            "is running."
        ) from None
    return _user_name(body, api_url)


def _user_name(body: bytes, api_url: str) -> str:
    try:
        model = json.loads(body)
    except ValueError:
        model = None
    name = model.get("name") if isinstance(model, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(
            f"JupyterHub at {URL_VARIABLE}={api_url} answered /user without a user name; "
            "is that URL the hub's API (it usually ends in /hub/api)?"
        )
    return name.strip()
