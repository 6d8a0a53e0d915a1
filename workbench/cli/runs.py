"""`workbench run`: play a suite from a terminal or CI, gate a deploy on the result.

    workbench run --suite "Checkout flows" --prompt "Support agent" --provider openai \\
        --model gpt-4o-mini --repeats 3 --junit results.xml

A suite with simulated users (docs/simulated-users.md) is played by the judge, or by the model
of `--simulator-provider/--simulator-model/--simulator-base-url` (each defaults to the target's).

Exit status: 0 all passed, 1 an expectation failed, 2 an attempt or check errored (errors win:
a run that could not check something has not shown it passes).

Reliability gates (any of them): the gates decide instead of "every expectation passed".
`--min-pass-rate 0.9` each scenario's pass rate; `--pass-k 3` each scenario's pass^3 (at least
--min-pass-rate, else 1.0); `--baseline RUN_ID --max-drop 0.05` the paired drop of the pass
rate from that run. 0 every gate passed, 1 a gate failed (the JUnit names each failing
scenario with its rate), 2 an error, as without gates. See docs/matrix.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

# What `workbench run` needs is imported when it runs: the parser is built for every command,
# `workbench worker` too, whose start-up is paid per process (issue 24).
if TYPE_CHECKING:
    import pandas as pd

    from workbench.handle import Workbench
    from workbench.runs.analysis.gates import GateFailure
    from workbench.runs.providers import Target

PROVIDERS = ("openai", "anthropic", "openai_compatible", "offline")
SIMULATOR_FLAGS = (
    "pass --simulator-provider PROVIDER --simulator-model MODEL (or --judge-provider/"
    "--judge-model: the judge plays it by default)"
)


def add_run_command(commands: Any) -> None:
    run = commands.add_parser("run", help="play a suite against a model; exit 1 on a failure")
    run.add_argument("--suite", required=True, help="suite id or name")
    run.add_argument("--prompt", required=True, help="prompt id or name")
    run.add_argument("--provider", required=True, help=", ".join(PROVIDERS))
    run.add_argument("--model", default=None, help="model name (offline: optional)")
    run.add_argument("--base-url", default=None, help="for openai_compatible, or a proxy")
    run.add_argument("--judge-provider", default=None)
    run.add_argument("--judge-model", default=None)
    simulator = run.add_argument_group(
        "simulated users (default: the judge plays them; each option defaults to the target's)"
    )
    simulator.add_argument("--simulator-provider", default=None, help=", ".join(PROVIDERS))
    simulator.add_argument("--simulator-model", default=None)
    simulator.add_argument("--simulator-base-url", default=None)
    run.add_argument("--repeats", type=int, default=1)
    run.add_argument("--concurrency", type=int, default=16)
    run.add_argument("--junit", default=None, metavar="FILE", help="write JUnit XML here")
    run.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a prompt variable for this run (repeatable); wins over --vars-file and the "
        "variables you stored",
    )
    run.add_argument(
        "--vars-file", default=None, metavar="FILE", help="prompt variables: a YAML or JSON mapping"
    )
    gates = run.add_argument_group("reliability gates (the gates decide the exit status)")
    gates.add_argument(
        "--min-pass-rate",
        type=float,
        default=None,
        metavar="RATE",
        help="each scenario's pass rate (or pass^k) at least RATE, e.g. 0.9",
    )
    gates.add_argument(
        "--pass-k",
        type=int,
        default=None,
        metavar="K",
        help="gate each scenario's pass^K (K attempts in a row pass); needs --repeats K or more",
    )
    gates.add_argument(
        "--baseline",
        default=None,
        metavar="RUN_ID",
        help="compare with this run (paired by scenario, expectation, repeat)",
    )
    gates.add_argument(
        "--max-drop",
        type=float,
        default=None,
        metavar="DROP",
        help="with --baseline: the pass rate may fall by at most DROP (default 0)",
    )
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
    from workbench.services.prompts.templates import MissingVariables
    from workbench.services.runs.simulated_setup import NoSimulator

    target = build_target(args.provider, args.model, args.base_url)
    judge = None
    if args.judge_provider or args.judge_model:
        judge = build_target(
            args.judge_provider or args.provider, args.judge_model or args.model, args.base_url
        )
    simulator = None
    if args.simulator_provider or args.simulator_model or args.simulator_base_url:
        simulator = build_target(
            args.simulator_provider or args.provider,
            args.simulator_model or args.model,
            args.simulator_base_url or args.base_url,
        )
    variables = run_variables(args.vars_file, args.var)
    gated = check_gates(args)
    wb = open_handle()
    if args.baseline is not None:
        wb.runs.get(args.baseline)  # NotFound (exit 2) before anything is sent
    try:
        run = wb.runs.start(
            suite=args.suite,
            prompt=args.prompt,
            target=target,
            judge=judge,
            simulator=simulator,
            repeats=args.repeats,
            concurrency=args.concurrency,
            variables=variables,
        )
    except MissingVariables as missing:
        flags = " ".join(f"--var {name}=VALUE" for name in missing.missing[:3])
        raise missing.saying(
            f"or pass them with {flags} (repeatable) or --vars-file FILE"
        ) from None
    except NoSimulator as refused:  # the service names simulator=...; here it is a flag
        raise refused.saying(SIMULATOR_FLAGS) from None
    run.wait()
    frame = run.frame()
    print(run.summary().to_string(index=False))
    view = wb.runs.get(run.id)
    print(f"run {run.id}: {view.status}; totals {dict(view.totals or {})}")
    failures = gate_failures(wb, run.id, args) if gated else []
    for failure in failures:
        print(f"gate failed: {failure.message}")
    if args.junit:
        write_junit(frame, args.junit, name=view.suite_name, gates=failures)
    statuses = set(frame["status"])
    if "ERROR" in statuses or view.status != "finished":
        return 2
    if gated:
        return 1 if failures else 0
    return 1 if "FAILED" in statuses else 0


def check_gates(args: argparse.Namespace) -> bool:
    """The gate flags, checked before anything runs; whether any gate is on."""
    from workbench.errors import ValidationError
    from workbench.runs.analysis.gates import check_fraction

    check_fraction(args.min_pass_rate, "--min-pass-rate")
    check_fraction(args.max_drop, "--max-drop")
    if args.pass_k is not None and not 1 <= args.pass_k <= args.repeats:
        raise ValidationError(f"--pass-k {args.pass_k} needs --repeats {args.pass_k} or more "
                              f"(got --repeats {args.repeats}): one attempt cannot tell whether "
                              "several in a row pass")  # fmt: skip
    if args.max_drop is not None and args.baseline is None:
        raise ValidationError("--max-drop needs --baseline RUN_ID (the run to compare with)")
    return any(v is not None for v in (args.min_pass_rate, args.pass_k, args.baseline))


def gate_failures(wb: Workbench, run_id: str, args: argparse.Namespace) -> list[GateFailure]:
    from workbench.runs.analysis.gates import drop_gate, scenario_gates

    failures = scenario_gates(wb.runs.attempts(run_id), args.min_pass_rate, args.pass_k)
    if args.baseline is not None:
        paired = wb.runs.compare(args.baseline, run_id).paired
        assert paired is not None
        print(repr(paired))
        failures += drop_gate(paired, args.max_drop or 0.0)
    return failures


def run_variables(vars_file: str | None, assignments: list[str]) -> dict[str, str]:
    """--vars-file, then each --var over it (stored variables fill the rest, in start)."""
    from workbench.services.variable_files import parse_assignments, read_variables_file

    from_file = read_variables_file(vars_file) if vars_file else {}
    return {**from_file, **parse_assignments(assignments)}


def write_junit(
    frame: pd.DataFrame, path: str, *, name: str, gates: list[GateFailure] | None = None
) -> None:
    """One testcase per expectation attempt: FAILED a <failure>, ERROR an <error>; and one per
    failed gate (classname "gates"), named after its scenario and saying its rate."""
    from xml.etree import ElementTree

    gates = gates or []
    suite = ElementTree.Element("testsuite", name=name, tests=str(len(frame) + len(gates)))
    failed = int((frame["status"] == "FAILED").sum()) + len(gates)
    suite.set("failures", str(failed))
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
        if row.status in ("FAILED", "ERROR"):
            message, text = failure_report(row)
            tag = "failure" if row.status == "FAILED" else "error"
            ElementTree.SubElement(case, tag, message=message).text = text
    for gate in gates:
        case = ElementTree.SubElement(suite, "testcase", classname="gates",
                                      name=f"{gate.gate}: {gate.scenario}", time="0")  # fmt: skip
        ElementTree.SubElement(case, "failure", message=gate.message[:500]).text = gate.message
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def failure_report(row: Any) -> tuple[str, str]:
    """A failed or errored expectation as (message, text): what happened in a sentence, where
    (scenario, turn, expectation, repeat, as the testcase's name numbers them) and the reply,
    bounded (500 characters of reply in the message, 5,000 in the text)."""
    from workbench.runs.evaluators.explain import explain

    detail = row.detail if isinstance(row.detail, dict) else {}
    if row.status == "ERROR" and not detail.get("error") and isinstance(row.error, str):
        detail = {**detail, "error": row.error}
    what = explain(str(row.type), str(row.status), detail)
    place = (
        f"scenario {row.scenario!r}, turn {row.turn}, expectation {row.expectation}, "
        f"repeat {row.repeat}"
    )
    reply = row.reply if isinstance(row.reply, str) else None
    said = "no reply" if reply is None else f"the reply was {_cut(reply, 500)!r}"
    text = f"{what}.\nWhere: {place}.\nReply: {'(none)' if reply is None else _cut(reply, 5_000)}"
    return f"{what[:1].upper()}{what[1:]} ({place}); {said}.", text


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…({len(text) - limit:,} more characters)"
