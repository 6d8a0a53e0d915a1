"""Prices per million tokens, by model; cost of an answer from its token usage.

An unknown model's cost is None: never guessed. Prices change, so the table is a starting point the
user extends or corrects with `set_price`. A dated model name (`gpt-4o-mini-2024-07-18`,
`claude-3-5-haiku-20241022`) falls back to its undated family when it has no entry of its own.

Figures: the providers' public list prices (USD per million tokens, standard tier) as of 2025.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workbench.errors import ValidationError


@dataclass(frozen=True, slots=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float


_TABLE: dict[str, Price] = {
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
    "claude-3-5-haiku": Price(0.80, 4.00),
    "claude-3-5-sonnet": Price(3.00, 15.00),
    "claude-3-7-sonnet": Price(3.00, 15.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-opus-4": Price(15.00, 75.00),
    "claude-3-haiku": Price(0.25, 1.25),
    "offline": Price(0.0, 0.0),
}

# A trailing date or "-latest" names a snapshot of the same family.
_SNAPSHOT = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|-latest)$")


def set_price(model: str, *, input_per_mtok: float, output_per_mtok: float) -> None:
    """Add or correct the price of `model` (USD per million tokens) for this process."""
    if not isinstance(model, str) or not model.strip():
        raise ValidationError("set_price needs a model name")
    for name, value in (("input_per_mtok", input_per_mtok), ("output_per_mtok", output_per_mtok)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValidationError(f"{name} must be a number >= 0, got {value!r}")
    _TABLE[model] = Price(float(input_per_mtok), float(output_per_mtok))


def price_of(model: str) -> Price | None:
    """The price for `model`, or its undated family's, or None when unknown."""
    found = _TABLE.get(model)
    if found is None:
        family = _SNAPSHOT.sub("", model)
        found = _TABLE.get(family)
    return found


def cost_usd(model: str, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
    """The cost of one answer, or None when the model or the usage is unknown."""
    price = price_of(model)
    if price is None or prompt_tokens is None or completion_tokens is None:
        return None
    total = prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok
    return total / 1_000_000
