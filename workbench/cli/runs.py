"""`workbench run`: play a suite from a terminal or CI, gate a deploy on the result.

    workbench run --suite "Checkout flows" --prompt "Support agent" --provider openai \\
        --model gpt-4o-mini --repeats 3 --junit results.xml

Exit status: 0 all passed, 1 an expectation failed, 2 an attempt or check errored (errors win:
a run that could not check something has not shown it passes).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

if TYPE_CHECKING:
    import pandas as pd

    from workbench.handle import Workbench
    from workbench.runs.providers import Target

PROVIDERS = ("openai", "anthropic", "openai_compatible", "offline")


def add_run_command(commands: Any) -> None:
    run = commands.add_parser("run", help="play a suite against a model; exit 1 on a failure")
    run.add_argument("--suite", required=True, help="suite id or name")
    run.add_argument("--prompt", required=True, help="prompt id or name")
    run.add_argument("--provider", required=True, help=", ".join(PROVIDERS))
    run.add_argument("--model", default=None, help="model name (offline: optional)")
    run.add_argument("--base-url", default=None, help="for openai_compatible, or a proxy")
    run.add_argument("--judge-provider", default=None)
    run.add_argument("--judge-model", default=None)
    run.add_argument("--repeats", type=int, default=1)
    run.add_argument("--concurrency", type=int, default=16)
    run.add_argument("--junit", default=None, metavar="FILE", help="write JUnit XML here")
    run.set_defaults(command=run_suite)


def open_handle() -> Workbench:
    import workbench

    handle: Workbench = workbench.connect(quiet=True)
    return handle


def build_target(provider: str, model: str | None, base_url: str | None) -> Target:
    from workbench.errors import ValidationError
    from workbench.runs.providers import targets

    if provider == "offline":
        return targets.offline(model=model or "offline")
    if provider not in PROVIDERS:
        raise ValidationError(
            f"unknown provider {provider!r}; choose one of {', '.join(PROVIDERS)}"
        )
    if not model:
        raise ValidationError(f"--model is required for provider {provider}")
    if provider == "openai_compatible":
        if not base_url:
            raise ValidationError("--base-url is required for provider openai_compatible")
        return targets.openai_compatible(base_url=base_url, model=model)
    build = targets.openai if provider == "openai" else targets.anthropic
    return build(model, base_url=base_url)


def run_suite(args: argparse.Namespace) -> int:
    from workbench.errors import WorkbenchError

    # A run that could not start has not shown anything passes: 2, never 1 ("a check failed").
    try:
        return _run_suite(args)
    except WorkbenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run_suite(args: argparse.Namespace) -> int:
    target = build_target(args.provider, args.model, args.base_url)
    judge = None
    if args.judge_provider or args.judge_model:
        judge = build_target(
            args.judge_provider or args.provider, args.judge_model or args.model, args.base_url
        )
    wb = open_handle()
    run = wb.runs.start(
        suite=args.suite,
        prompt=args.prompt,
        target=target,
        judge=judge,
        repeats=args.repeats,
        concurrency=args.concurrency,
    )
    run.wait()
    frame = run.frame()
    print(run.summary().to_string(index=False))
    view = wb.runs.get(run.id)
    print(f"run {run.id}: {view.status}; totals {dict(view.totals or {})}")
    if args.junit:
        write_junit(frame, args.junit, name=view.suite_name)
    statuses = set(frame["status"])
    if "ERROR" in statuses or view.status != "finished":
        return 2
    return 1 if "FAILED" in statuses else 0


def write_junit(frame: pd.DataFrame, path: str, *, name: str) -> None:
    """One testcase per expectation attempt: FAILED a <failure>, ERROR an <error>."""
    suite = ElementTree.Element("testsuite", name=name, tests=str(len(frame)))
    suite.set("failures", str(int((frame["status"] == "FAILED").sum())))
    suite.set("errors", str(int((frame["status"] == "ERROR").sum())))
    import pandas as pd

    for row in frame.itertuples(index=False):
        latency: Any = row.latency_s
        seconds = 0.0 if pd.isna(latency) else float(latency)
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=str(row.scenario),
            name=f"turn {row.turn} expectation {row.expectation} {row.type} repeat {row.repeat}",
            time=f"{seconds:.3f}",
        )
        if row.status == "FAILED":
            ElementTree.SubElement(case, "failure", message=str(row.detail)[:500])
        elif row.status == "ERROR":
            ElementTree.SubElement(case, "error", message=str(row.error)[:500])
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
