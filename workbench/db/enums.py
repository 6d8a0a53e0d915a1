"""The four enums of the shared schema, as Python enums and as PostgreSQL enum types."""

from __future__ import annotations

import enum

from sqlalchemy.dialects.postgresql import ENUM


class ScenarioStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class ScenarioTurnType(enum.StrEnum):
    USER = "USER"
    EXPECT = "EXPECT"


class ExpectationType(enum.StrEnum):
    MUST_CONTAIN = "MUST_CONTAIN"
    MUST_CONTAIN_ANY = "MUST_CONTAIN_ANY"
    MUST_NOT_CONTAIN = "MUST_NOT_CONTAIN"
    REGEX = "REGEX"
    SEMANTIC_ASSERT = "SEMANTIC_ASSERT"


class PromptStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


def pg_enum(python_enum: type[enum.StrEnum]) -> ENUM:
    """The PostgreSQL enum type Prisma creates for `python_enum`: same name, same labels.

    `create_type=False` because migrations create each type once, explicitly, not per table.
    """
    return ENUM(
        python_enum,
        name=python_enum.__name__,
        values_callable=lambda members: [member.value for member in members],
        create_type=False,
    )


SCENARIO_STATUS = pg_enum(ScenarioStatus)
SCENARIO_TURN_TYPE = pg_enum(ScenarioTurnType)
EXPECTATION_TYPE = pg_enum(ExpectationType)
PROMPT_STATUS = pg_enum(PromptStatus)
