"""workbench: test LLM assistants with multi-turn scenarios, from JupyterLab.

    import workbench
    wb = workbench.connect()              # embedded database, local user: no set-up
    wb.scenarios.list()

Importing the package connects to nothing and starts nothing; the names below are loaded on
first use, so `import workbench` stays fast (`dir(workbench)` and tab completion list them all).

Signing in (each returns a `Workbench` handle):
    connect, sign_up, sign_in, resume, request_password_reset, reset_password
Writing scenarios:
    ScenarioCreate, ScenarioUpdate, user, expect,
    must_contain, must_contain_any, must_not_contain, regex, semantic
Tools the assistant may call, and checks on its calls (per EXPECT turn):
    tool, called, not_called, calls_in_order; tool_calls (an offline rule that calls tools);
    mcp_stdio (an MCP server as a run's tools=)
Users who leave the script (a model plays the user), and criteria on the whole conversation:
    simulated_user, judge_conversation
Prompts: render_template.  The database: Database, open_database.
Widgets: studio(wb) (or wb.studio()), ScenarioEditor, ScenarioBrowser, SuiteEditor,
    PromptEditor, VariableEditor, ApiKeyEditor, RunViewer(run), ReviewWidget(queue).
Run targets (what a run calls; no key inside): openai, anthropic, openai_compatible, offline
The handle: Workbench (wb.scenarios, wb.suites, wb.prompts, wb.variables, wb.api_keys,
    wb.runs, wb.reviews, wb.account, wb.export_workspace, wb.import_workspace, ...).
Errors (all subclasses of WorkbenchError):
    AuthError, ConfigError, Conflict, DatabaseError, DecryptionError, Duplicate, NotFound,
    ProviderError (a model API call failed: `kind`, `retryable`, `status`), ValidationError
DataFrames: the `workbench.frames` module. Plots of runs: the `workbench.plots` module (both
    reachable as attributes after `import workbench`, loaded on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.errors import (
    AuthError,
    ConfigError,
    Conflict,
    DatabaseError,
    DecryptionError,
    Duplicate,
    NotFound,
    ProviderError,
    ValidationError,
    WorkbenchError,
)
from workbench.lazy import lazy_attributes

if TYPE_CHECKING:
    from workbench import frames, plots
    from workbench.db.engine import Database, open_database
    from workbench.handle import Workbench
    from workbench.runs.mcp import mcp_stdio
    from workbench.runs.providers.base import tool_calls
    from workbench.runs.providers.targets import anthropic, offline, openai, openai_compatible
    from workbench.services.prompts.templates import render_template
    from workbench.services.scenarios.simulated import judge_conversation, simulated_user
    from workbench.services.scenarios.tools import called, calls_in_order, not_called, tool
    from workbench.services.scenarios.types import (
        ScenarioCreate,
        ScenarioUpdate,
        expect,
        must_contain,
        must_contain_any,
        must_not_contain,
        regex,
        semantic,
        user,
    )

__version__ = "0.1.0"

# Public name → module that defines it, imported lazily by __getattr__.
_LAZY = {
    "Database": "workbench.db.engine",
    "open_database": "workbench.db.engine",
    "Workbench": "workbench.handle",
    "connect": "workbench.auth",
    "sign_up": "workbench.auth",
    "sign_in": "workbench.auth",
    "resume": "workbench.auth",
    "request_password_reset": "workbench.auth",
    "reset_password": "workbench.auth",
    "ApiKeyEditor": "workbench.widgets.api_keys",
    "ScenarioEditor": "workbench.widgets.scenario_editor",
    "ScenarioBrowser": "workbench.widgets.scenario_browser",
    "SuiteEditor": "workbench.widgets.suite_editor",
    "PromptEditor": "workbench.widgets.prompt_editor",
    "VariableEditor": "workbench.widgets.variable_editor",
    "studio": "workbench.widgets.studio",
    "RunViewer": "workbench.widgets.run_viewer",
    "ReviewWidget": "workbench.widgets.review",
    # Writing scenarios: ScenarioCreate(name=..., turns=[user("Hi"), expect(must_contain("hello"))])
    "ScenarioCreate": "workbench.services.scenarios.types",
    "ScenarioUpdate": "workbench.services.scenarios.types",
    "user": "workbench.services.scenarios.types",
    "expect": "workbench.services.scenarios.types",
    "must_contain": "workbench.services.scenarios.types",
    "must_contain_any": "workbench.services.scenarios.types",
    "must_not_contain": "workbench.services.scenarios.types",
    "regex": "workbench.services.scenarios.types",
    "semantic": "workbench.services.scenarios.types",
    # Tools (issue 20): tool("lookup_order", ...), expect(called("lookup_order"), ...)
    "tool": "workbench.services.scenarios.tools",
    "called": "workbench.services.scenarios.tools",
    "not_called": "workbench.services.scenarios.tools",
    "calls_in_order": "workbench.services.scenarios.tools",
    "tool_calls": "workbench.runs.providers.base",
    # Simulated users (issue 21): simulated_user(goal=...), judge_conversation("criterion", ...)
    "simulated_user": "workbench.services.scenarios.simulated",
    "judge_conversation": "workbench.services.scenarios.simulated",
    "mcp_stdio": "workbench.runs.mcp",
    # Prompt templates: render_template("Hi {{ name }}", {"name": "Ada"})
    "render_template": "workbench.services.prompts.templates",
    # Run targets: workbench.openai("gpt-4o-mini", temperature=0), anthropic(...), offline(...)
    "openai": "workbench.runs.providers.targets",
    "anthropic": "workbench.runs.providers.targets",
    "openai_compatible": "workbench.runs.providers.targets",
    "offline": "workbench.runs.providers.targets",
}

# Submodules reachable as attributes (`workbench.frames.suite_frame(...)`), imported on first use.
_LAZY_MODULES = ("frames", "plots")

__all__ = [
    "ApiKeyEditor",
    "AuthError",
    "ConfigError",
    "Conflict",
    "Database",
    "DatabaseError",
    "DecryptionError",
    "Duplicate",
    "NotFound",
    "PromptEditor",
    "ProviderError",
    "ReviewWidget",
    "RunViewer",
    "ScenarioBrowser",
    "ScenarioCreate",
    "ScenarioEditor",
    "ScenarioUpdate",
    "SuiteEditor",
    "ValidationError",
    "VariableEditor",
    "Workbench",
    "WorkbenchError",
    "anthropic",
    "called",
    "calls_in_order",
    "connect",
    "expect",
    "frames",
    "judge_conversation",
    "mcp_stdio",
    "must_contain",
    "must_contain_any",
    "must_not_contain",
    "not_called",
    "offline",
    "open_database",
    "openai",
    "openai_compatible",
    "plots",
    "regex",
    "render_template",
    "request_password_reset",
    "reset_password",
    "resume",
    "semantic",
    "sign_in",
    "sign_up",
    "simulated_user",
    "studio",
    "tool",
    "tool_calls",
    "user",
]


_lazy_name = lazy_attributes(__name__, _LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f"workbench.{name}")  # which sets the attribute
    return _lazy_name(name)


def __dir__() -> list[str]:
    # The lazy names are not in globals() until first used; list them so that dir(), help() and
    # IPython's completion of `workbench.co<TAB>` find them without importing anything.
    return sorted({*__all__, "__version__", *(name for name in globals() if name.startswith("__"))})
