"""Process-wide limits per provider key and model: an adaptive concurrency limit and rate buckets.

Every client opened for the same (provider, base_url, key fingerprint, model) in one event loop
shares one `AdaptiveLimit`, so several runs in a kernel together stay under the provider's limit.
The limit is AIMD: a 429 halves it (once per window: only a request that started after the last
cut can cut again, so a burst of 429s from one wave counts once), and every `limit` successes
add one back, up to the ceiling (`Target.concurrency`; without one the limit is unbounded until
the first 429, and becomes unbounded again once it has grown past `UNBOUNDED_AGAIN`).

Rate buckets: requests per minute are taken before a request; tokens per minute are charged
after the answer with the real usage (the count is not known before), and a request waits while
the bucket is in debt. Both start full, so a burst of one minute's budget goes at once.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from collections import deque
from dataclasses import dataclass, field

UNBOUNDED_AGAIN = 1024


class AdaptiveLimit:
    def __init__(self, ceiling: int | None) -> None:
        self.ceiling = ceiling
        self.limit: float = float(ceiling) if ceiling else math.inf
        self.in_flight = 0
        self.peak = 0  # the most requests ever in flight at once (tests and diagnostics)
        self.cuts = 0
        self.lowest = self.limit  # the lowest the limit went (tests and diagnostics)
        self._epoch = 0
        self._successes = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def __repr__(self) -> str:
        return f"AdaptiveLimit(limit={self.limit}, in_flight={self.in_flight}, peak={self.peak})"

    def lower_ceiling(self, ceiling: int | None) -> None:
        """A second run asking for a lower limit on the same key and model gets it."""
        if ceiling is not None and (self.ceiling is None or ceiling < self.ceiling):
            self.ceiling = ceiling
            self.limit = min(self.limit, float(ceiling))

    async def acquire(self) -> int:
        """Wait for a slot; returns the window the request starts in (for `rate_limited`)."""
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            if self.in_flight > self.peak:
                self.peak = self.in_flight
            return self._epoch
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        try:
            await future  # the releasing task counted us in already
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # granted, then cancelled before use: give the slot on
            else:
                self._waiters.remove(future)
            raise
        return self._epoch

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            future = self._waiters.popleft()
            if not future.done():
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                future.set_result(None)

    def rate_limited(self, epoch: int) -> None:
        if epoch != self._epoch:
            return  # this wave already cut the limit
        self._epoch += 1
        self._successes = 0
        self.cuts += 1
        self.limit = float(max(1, math.floor(min(self.limit, self.in_flight) / 2)))
        self.lowest = min(self.lowest, self.limit)

    def succeeded(self) -> None:
        if self.limit == math.inf:
            return
        self._successes += 1
        if self._successes < self.limit:
            return
        self._successes = 0
        self.limit += 1
        if self.ceiling is not None:
            self.limit = min(self.limit, float(self.ceiling))
        elif self.limit >= UNBOUNDED_AGAIN:
            self.limit = math.inf
        self._wake()


@dataclass
class Bucket:
    """A token bucket of `per_minute` units, refilled continuously."""

    per_minute: int
    level: float = field(init=False)
    stamp: float = field(init=False, default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.level = float(self.per_minute)

    def _refill(self) -> None:
        now = time.monotonic()
        rate = self.per_minute / 60.0
        self.level = min(float(self.per_minute), self.level + (now - self.stamp) * rate)
        self.stamp = now

    async def take(self, units: float) -> None:
        """Wait until `units` are available and take them (units=0: wait out any debt)."""
        while True:
            self._refill()
            if self.level >= units and self.level >= 0:
                self.level -= units
                return
            missing = max(units, 0.0) - self.level
            await asyncio.sleep(min(60.0, missing / (self.per_minute / 60.0)))

    def charge(self, units: float) -> None:
        self._refill()
        self.level -= units


@dataclass
class Limits:
    concurrency: AdaptiveLimit
    rpm: Bucket | None = None
    tpm: Bucket | None = None


LimitKey = tuple[str, str | None, str, str]
_REGISTRY: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[LimitKey, Limits]] = (
    weakref.WeakKeyDictionary()
)


def shared_limits(
    key: LimitKey, *, concurrency: int | None, rpm: int | None, tpm: int | None
) -> Limits:
    """The limits every client for `key` shares in the running event loop."""
    per_loop = _REGISTRY.setdefault(asyncio.get_running_loop(), {})
    limits = per_loop.get(key)
    if limits is None:
        limits = per_loop[key] = Limits(AdaptiveLimit(concurrency))
    else:
        limits.concurrency.lower_ceiling(concurrency)
    if rpm is not None and (limits.rpm is None or rpm < limits.rpm.per_minute):
        limits.rpm = Bucket(rpm)
    if tpm is not None and (limits.tpm is None or tpm < limits.tpm.per_minute):
        limits.tpm = Bucket(tpm)
    return limits
