"""Issue 26's browser target: with 10,000 items in the queue, the next item shows in under 50 ms
after a key press, in JupyterLab in headless Chromium (Debian's /usr/bin/chromium).

A JupyterLab server is started on a scratch database (the harness of tests/browser), the
notebook opens a `ReviewWidget` over an unlabelled run of 10,000 judged results, and the page
itself times each key: from the keydown (a capturing listener) to the moment the widget's
position line says the next item (a MutationObserver), both by `performance.now()`. Keys are
pressed a reviewer's pace apart (0.3 s), as `p` (label and move on) and `n` (move on).

    python bench/bench_review_browser.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/browser's harness

from _scratch import scratch_database
from bench_review import EXPECTATIONS, QUEUE_ITEMS, REPEATS, add_user, load
from playwright.sync_api import sync_playwright

from tests.browser import conftest as harness

TARGET_MS, PRESSES, PACE_S = 50.0, 20, 0.3

WATCH = """() => {
    const line = [...document.querySelectorAll('.widget-html')]
        .find(e => e.textContent.includes('labelled'));
    window.__review = {down: [], shown: []};
    document.addEventListener('keydown', () => window.__review.down.push(performance.now()), true);
    new MutationObserver(() => window.__review.shown.push([performance.now(), line.textContent]))
        .observe(line, {subtree: true, childList: true, characterData: true});
}"""


def key_to_next_ms(page: object, keys: str, first: int) -> list[float]:
    """Press each key; the ms from its keydown to the position line naming the next item."""
    page.evaluate(WATCH)  # type: ignore[attr-defined]
    for offset, key in enumerate(keys):
        page.keyboard.press(key)  # type: ignore[attr-defined]
        wanted = f"Item {first + offset + 1} of"
        page.wait_for_function(  # type: ignore[attr-defined]
            "w => window.__review.shown.some(([, text]) => text.includes(w))", arg=wanted
        )
        time.sleep(PACE_S)
    down, shown = page.evaluate("() => [window.__review.down, window.__review.shown]")  # type: ignore[attr-defined]
    waits = []
    for offset, pressed in enumerate(down):
        wanted = f"Item {first + offset + 1} of"
        at = min(t for t, text in shown if wanted in text and t >= pressed)
        waits.append(at - pressed)
    return waits


def main() -> int:
    with scratch_database("wb_bench_review_browser") as (database, conninfo):
        with psycopg.connect(conninfo) as conn:
            ada = add_user(conn, "Ada")
        run_id = load(conninfo, ada, 0, QUEUE_ITEMS // (REPEATS * EXPECTATIONS), labelled=False)
        with tempfile.TemporaryDirectory(prefix="wb-bench-lab-") as scratch_name:
            scratch = Path(scratch_name)
            root = scratch / "notebooks"
            root.mkdir()
            port = harness._free_port()
            lab = harness.LabServer(f"http://127.0.0.1:{port}", root, scratch / "lab.log")
            with lab.log_path.open("wb") as log:
                process = subprocess.Popen(
                    harness._lab_command(port, root), cwd=root,
                    env=harness._lab_environment(database.url, scratch),
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
                try:
                    harness._wait_until_up(process, lab)
                    return measure(lab, ada, run_id)
                finally:
                    harness._stop(process, lab)


def measure(lab: harness.LabServer, user_id: str, run_id: str) -> int:
    cell = f"""import workbench
from workbench.handle import SignedInUser, Workbench
wb = Workbench(workbench.open_database(), SignedInUser(id={user_id!r}, email='a@b.c', name='Ada'))
q = wb.reviews.queue({run_id!r})
workbench.ReviewWidget(q)"""
    notebook = harness.write_notebook(lab, f"review-{uuid.uuid4().hex[:6]}.ipynb", [cell])
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=str(harness.CHROMIUM), args=harness.CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(60_000)
        harness.run_notebook_in_lab(page, lab, notebook)
        page.locator(f"text=of {QUEUE_ITEMS:,}").first.wait_for()
        page.locator('.widget-text input[placeholder^="type here"]').click()
        waits = key_to_next_ms(page, "p" * PRESSES + "n" * PRESSES, first=1)
        browser.close()
    labelled, moved = waits[:PRESSES], waits[PRESSES:]
    failures = 0
    for name, values in (("p (label, next)", labelled), ("n (next)", moved)):
        median, worst = statistics.median(values), max(values)
        ok = median < TARGET_MS
        failures += not ok
        print(
            f"  {'ok  ' if ok else 'FAIL'} key {name} over {QUEUE_ITEMS:,} items: median "
            f"{median:.1f} ms, max {worst:.1f} ms (target: median < {TARGET_MS:.0f} ms)"
        )
    print("all targets met" if not failures else "FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
