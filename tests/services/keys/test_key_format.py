"""The API-key write format: `legacy` beside a Prisma app (its web app can read what a notebook
saves), `v2` where the workbench made the database; switched with `workbench keys format`."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import URL

import workbench
from workbench.cli import main
from workbench.crypto.vault import KeyVault
from workbench.db.contract import CONTRACT_SQL
from workbench.db.engine import Database, open_database
from workbench.db.migrate import upgrade
from workbench.db.models import UserApiKey
from workbench.handle import Workbench

SECRET = "workbench-test-key-format-secret"
PASSWORD = "a long passphrase"

# The web app's decrypt as it ships today (lib/crypto in the Next.js app): `<iv>:<ciphertext>`.
WEB_APP_DECRYPT = """
const crypto = require("node:crypto");
function decrypt(text) {
  const key = crypto.scryptSync(process.env.ENCRYPTION_KEY, "salt", 32);
  const [ivHex, encryptedHex] = text.split(":");
  const iv = Buffer.from(ivHex, "hex");
  const decipher = crypto.createDecipheriv("aes-256-cbc", key, iv);
  let decrypted = decipher.update(encryptedHex, "hex", "utf8");
  decrypted += decipher.final("utf8");
  return decrypted;
}
const out = [];
for (const stored of JSON.parse(require("node:fs").readFileSync(0, "utf8"))) {
  try { out.push(decrypt(stored)); } catch (error) { out.push({ refused: error.code || "error" }); }
}
console.log(JSON.stringify(out));
"""
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


def web_app_reads(stored: list[str], tmp_path: Path) -> list[object]:
    script = tmp_path / "web_app_decrypt.js"
    script.write_text(WEB_APP_DECRYPT)
    result = subprocess.run(
        ["node", str(script)],
        input=json.dumps(stored),
        capture_output=True,
        text=True,
        check=True,
        env={"ENCRYPTION_KEY": SECRET, "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    return list(json.loads(result.stdout))


def stored_key(database: Database, user_id: str) -> str:
    with database.transaction() as session:
        value = session.scalar(
            select(UserApiKey.encrypted_key).where(UserApiKey.user_id == user_id)
        )
    assert value is not None
    return value


def signed_up(url: str) -> Workbench:
    from workbench.auth import sign_up

    return sign_up("ada@example.com", PASSWORD, "Ada", url=url, remember=False)


@pytest.fixture
def prisma_created(
    scratch_database: Callable[[], URL], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A database a Prisma app created, then `workbench db upgrade` beside it; DATABASE_URL set."""
    url = scratch_database().render_as_string(hide_password=False)
    database = open_database(url, check_schema=False)
    with database.engine.begin() as conn:
        conn.exec_driver_sql(CONTRACT_SQL.read_text())
    upgrade(database)
    database.engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ENCRYPTION_KEY", SECRET)
    yield url


@needs_node
def test_beside_a_prisma_app_the_unchanged_web_app_reads_a_key_saved_in_the_default_mode(
    prisma_created: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wb = signed_up(prisma_created)
    wb.api_keys.set(provider="openai", api_key="sk-from-the-notebook")
    stored = stored_key(wb.database, wb.user.id)
    assert KeyVault.is_legacy(stored)
    assert web_app_reads([stored], tmp_path) == ["sk-from-the-notebook"]
    assert wb.api_keys._reveal_for_provider_call(provider="openai") == "sk-from-the-notebook"
    assert main(["keys", "format"]) == 0
    assert "legacy format (the default for this database)" in capsys.readouterr().out


@needs_node
def test_switching_to_v2_writes_v2_and_rotate_converts_the_rows(
    prisma_created: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wb = signed_up(prisma_created)
    wb.api_keys.set(provider="openai", api_key="sk-legacy-first")
    assert main(["keys", "format", "v2"]) == 0
    assert "will be written in the v2 format" in capsys.readouterr().out
    wb.api_keys.set(provider="anthropic", api_key="sk-ant-v2")
    with wb.database.transaction() as session:
        query = select(UserApiKey.provider, UserApiKey.encrypted_key)
        rows = {provider: value for provider, value in session.execute(query)}
    assert KeyVault.is_legacy(rows["openai"]) and rows["anthropic"].startswith("v2:")
    # What v2 costs beside an unchanged web app: it cannot read the row at all.
    assert web_app_reads([rows["anthropic"]], tmp_path) == [{"refused": "ERR_CRYPTO_INVALID_IV"}]

    assert main(["keys", "rotate", "--keep-secret"]) == 0
    assert "Rewrote 2 API keys" in capsys.readouterr().out
    assert stored_key_formats(wb) == {"openai": "v2", "anthropic": "v2"}
    assert wb.api_keys._reveal_for_provider_call(provider="openai") == "sk-legacy-first"

    assert main(["keys", "format", "legacy"]) == 0
    assert main(["keys", "rotate", "--keep-secret"]) == 0
    assert stored_key_formats(wb) == {"openai": "legacy", "anthropic": "legacy"}
    with wb.database.transaction() as session:
        values = list(
            session.scalars(select(UserApiKey.encrypted_key).order_by(UserApiKey.provider))
        )
    assert web_app_reads(values, tmp_path) == ["sk-ant-v2", "sk-legacy-first"]


def stored_key_formats(wb: Workbench) -> dict[str, str]:
    with wb.database.transaction() as session:
        rows = session.execute(select(UserApiKey.provider, UserApiKey.encrypted_key))
        return {p: "legacy" if KeyVault.is_legacy(v) else v.split(":")[0] for p, v in rows}


def test_where_the_workbench_created_the_database_v2_is_the_default(
    committed_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.services.keys.format import current_key_format, set_key_format

    assert current_key_format(committed_db) == ("v2", False)
    with pytest.raises(workbench.ValidationError, match="'v3' is not an API key format"):
        set_key_format(committed_db, "v3")
    set_key_format(committed_db, "legacy")
    try:
        assert current_key_format(committed_db) == ("legacy", True)
    finally:
        with committed_db.engine.begin() as conn:
            conn.execute(
                text("DELETE FROM workbench.installation_setting WHERE key = 'api_key_format'")
            )
