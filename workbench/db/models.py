"""Every mapped class, in one import: `from workbench.db.models import Scenario`."""

from __future__ import annotations

from workbench.db.auth_models import Account, Session, User, Verification
from workbench.db.base import Base
from workbench.db.cache_models import ResponseCacheEntry
from workbench.db.conversation_models import ConversationResult
from workbench.db.extension_models import ScenarioExtension, ToolCall
from workbench.db.matrix_models import RunMatrix, RunMatrixCell
from workbench.db.prompt_models import Prompt, UserApiKey, Variable
from workbench.db.review_models import ReviewLabel, ReviewLabelChange
from workbench.db.run_models import ExpectationResult, Run, RunAttempt, RunScenario, TurnResult
from workbench.db.scenario_models import (
    Scenario,
    ScenarioExpectation,
    ScenarioSuite,
    ScenarioSuiteItem,
    ScenarioTurn,
    ScenarioVersion,
)
from workbench.db.workbench_models import AdminLock, InstallationSetting

__all__ = [
    "Account",
    "AdminLock",
    "Base",
    "ConversationResult",
    "ExpectationResult",
    "InstallationSetting",
    "Prompt",
    "ResponseCacheEntry",
    "ReviewLabel",
    "ReviewLabelChange",
    "Run",
    "RunAttempt",
    "RunMatrix",
    "RunMatrixCell",
    "RunScenario",
    "Scenario",
    "ScenarioExpectation",
    "ScenarioExtension",
    "ScenarioSuite",
    "ScenarioSuiteItem",
    "ScenarioTurn",
    "ScenarioVersion",
    "Session",
    "ToolCall",
    "TurnResult",
    "User",
    "UserApiKey",
    "Variable",
    "Verification",
]
