"""The first code a user reads runs: every Python block of README.md and docs/*.md, in order,
one fresh kernel per file, on an embedded database (a temporary WORKBENCH_HOME), as a newcomer
pastes them cell by cell into JupyterLab.

The rules, all of them:

- Only ```python blocks run. ```bash, ```sh, ```js and unlabelled blocks are commands and files
  for other programs; `test_every_block_is_run_or_skipped_for_a_reason` lists them.
- A Python block right after `<!-- docs-test: skip REASON -->` (an HTML comment: invisible on
  GitHub) does not run, for the reason given, which is required: configuration read by another
  program (jupyterhub_config.py), or something a test machine does not have (a Dask gateway).
- A block naming a real provider runs against the offline one: PRELUDE, run first in every
  kernel, replaces `workbench.openai`, `anthropic` and `openai_compatible` with builders that
  check the documented call with the real builder, then return `workbench.offline()`. So a
  documented call with a typo still fails, and no block needs a key or the network.
- Each file is a local user of its own (`LOGNAME=docs-<file>`) with its own WORKBENCH_HOME (its
  own saved sessions and generated ENCRYPTION_KEY), all on one embedded server (the homes share
  their `data` directory): files never see each other's rows, and one server starts, not nine.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\b\s*(?P<reason>[^>]*?)\s*-->")
FENCE = re.compile(r"^(?P<indent>[ ]{0,4})(?P<fence>```+)(?P<info>[^`\n]*)$")
BLOCK_TIMEOUT_S = 120
ANSI = re.compile(r"\x1b\[[0-9;]*m")

PRELUDE = """\
import workbench as _wb
from workbench.runs.providers import targets as _targets


def _offline_instead(builder):
    def build(*args, **kwargs):
        builder(*args, **kwargs)  # the documented call must be valid as written
        return _targets.offline()

    build.__name__ = builder.__name__
    return build


for _name in ("openai", "anthropic", "openai_compatible"):
    setattr(_wb, _name, _offline_instead(getattr(_targets, _name)))
"""


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    language: str
    source: str
    skip_reason: str | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def blocks_of(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, with the skip marker right before it, if any."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        body: list[str] = []
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            body.append(lines[end][indent:] if lines[end][:indent].isspace() else lines[end])
            end += 1
        before = next((line for line in reversed(lines[:index]) if line.strip()), "")
        marker = SKIP.search(before)
        reason = marker["reason"] if marker else None
        language = opening["info"].strip().split(" ")[0]
        found.append(Block(path, index + 1, language, "\n".join(body), reason))
        index = end + 1
    return found


def python_blocks(path: Path) -> list[Block]:
    return [b for b in blocks_of(path) if b.language == "python" and b.skip_reason is None]


RUN_ELSEWHERE = re.compile(r"read out of this page by (tests/[\w/]+\.py)")
"""A skip reason naming the test that reads the block out of the page and runs it (a config
file another program reads: JupyterHub's, dask-gateway's). Checked: that test exists and
looks for the block by its opening comment."""


def test_every_block_is_run_or_skipped_for_a_reason() -> None:
    """What does not run is listed here, with why: nothing is left out silently."""
    other_programs, skipped, elsewhere = [], [], []
    for path in DOCUMENTS:
        for block in blocks_of(path):
            if block.language != "python":
                other_programs.append(f"{block.where} ({block.language or 'plain text'})")
            elif block.skip_reason is not None:
                assert block.skip_reason, f"{block.where}: a skip marker needs a reason"
                runner = RUN_ELSEWHERE.search(block.skip_reason)
                if runner is None:
                    skipped.append(f"{block.where}: {block.skip_reason}")
                    continue
                test = (REPO / runner.group(1)).read_text(encoding="utf-8")
                # The block's opening comment, as far as its name ("# jupyterhub_config.py").
                name = re.split(r"[:,(]", block.source.strip().splitlines()[0])[0].strip()
                assert name.startswith("#") and f'"{name}' in test, (
                    f"{block.where}: {runner.group(1)} does not read it out of the page"
                )
                elsewhere.append(f"{block.where}: {block.skip_reason}")
            assert block.source.strip(), f"{block.where}: an empty block"
    print("not Python, not run:", *other_programs, sep="\n  ")
    print("Python, run by another test:", *elsewhere, sep="\n  ")
    print("Python, skipped:", *skipped, sep="\n  ")
    assert sum(len(python_blocks(path)) for path in DOCUMENTS) >= 15
    assert len(skipped) <= 6, "most documented Python must run; fix the block instead"


@pytest.fixture(scope="module")
def docs_homes() -> Iterator[Path]:
    """A directory of per-file WORKBENCH_HOMEs sharing one `data` (one embedded server)."""
    root = Path(tempfile.mkdtemp(prefix="workbench-docs-"))
    (root / "data").mkdir()
    yield root
    from workbench.db.embedded import stop_server

    stop_server(root / "data" / "pg")
    shutil.rmtree(root, ignore_errors=True)


def kernel_environment(home: Path, user: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "ENCRYPTION_KEY", "JUPYTERHUB_API_URL",
                        "JUPYTERHUB_API_TOKEN", "OPENAI_API_KEY", "ANTHROPIC_API_KEY")
    }  # fmt: skip
    return env | {"WORKBENCH_HOME": str(home), "LOGNAME": user, "USER": user}


@pytest.mark.parametrize("path", [p for p in DOCUMENTS if python_blocks(p)], ids=lambda p: p.name)
def test_the_python_blocks_run_in_a_fresh_kernel(path: Path, docs_homes: Path) -> None:
    blocks = python_blocks(path)
    home = docs_homes / path.stem
    home.mkdir()
    (home / "data").symlink_to(docs_homes / "data")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(PRELUDE)] + [
        nbformat.v4.new_code_cell(block.source) for block in blocks
    ]
    client = NotebookClient(
        notebook,
        timeout=BLOCK_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(home)}},
    )
    try:
        client.execute(env=kernel_environment(home, f"docs-{path.stem}"))
    except CellExecutionError as error:
        failed = next(
            (
                block
                for block, cell in zip(blocks, notebook.cells[1:], strict=True)
                if any(output.get("output_type") == "error" for output in cell.get("outputs", []))
            ),
            None,
        )
        where = failed.where if failed else path.name
        plain = ANSI.sub("", str(error))
        pytest.fail(f"the block at {where} fails in a fresh kernel:\n{plain}", pytrace=False)
