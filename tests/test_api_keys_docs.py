"""The Node snippet in docs/api-keys-format.md reads what the workbench writes, and back."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.crypto.test_vault import LEGACY, PLAINTEXT, SECRET
from workbench.crypto.vault import DECRYPTION_FAILED, KeyVault
from workbench.errors import DecryptionError

DOC = Path(__file__).resolve().parents[1] / "docs" / "api-keys-format.md"
HARNESS = """
const input = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
const out = { read: [], refused: [] };
for (const [stored, row] of input.read) out.read.push(decryptApiKey(stored, row, input.secret));
for (const [stored, row] of input.refused) {
  try { decryptApiKey(stored, row, input.secret); out.refused.push(false); }
  catch (error) { out.refused.push(error.message); }
}
out.written = encryptApiKey(input.write, input.writeRow, input.secret);
console.log(JSON.stringify(out));
"""


def node_snippet() -> str:
    blocks: list[str] = re.findall(r"```js\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    [snippet] = [block for block in blocks if "function decryptApiKey" in block]
    return snippet


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_documented_node_code_interoperates_with_the_vault(tmp_path: Path) -> None:
    vault = KeyVault(SECRET)
    row = {"user_id": "user-1", "provider": "openai"}
    js_row = {"userId": "user-1", "provider": "openai"}
    written = vault.encrypt("sk-from-python-ü", **row)
    script = tmp_path / "check.js"
    script.write_text(node_snippet() + HARNESS)
    payload = {
        "secret": SECRET,
        "read": [[written, js_row], [LEGACY, js_row]],
        "refused": [[written, {"userId": "user-2", "provider": "openai"}], [written[:-2], js_row]],
        "write": "sk-from-node",
        "writeRow": js_row,
    }

    result = subprocess.run(
        ["node", str(script)], input=json.dumps(payload), capture_output=True, text=True, check=True
    )
    out = json.loads(result.stdout)

    assert out["read"] == ["sk-from-python-ü", PLAINTEXT]
    assert out["refused"] == ["Could not decrypt the stored API key"] * 2
    assert vault.decrypt(out["written"], **row) == "sk-from-node"
    with pytest.raises(DecryptionError, match=re.escape(DECRYPTION_FAILED)):
        vault.decrypt(out["written"], user_id="user-1", provider="anthropic")
