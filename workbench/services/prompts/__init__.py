"""Prompts: templates with `{{name}}` placeholders, rendered with your variables (`wb.prompts`).

service.py is `PromptService`; types.py its views and checks; names.py the rule for names that
repeat; templates.py the template language (`workbench.render_template`).
"""

from __future__ import annotations

from workbench.services.prompts.service import PromptService
from workbench.services.prompts.types import PromptView

__all__ = ["PromptService", "PromptView"]
