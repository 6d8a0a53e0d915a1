"""A command's start-up without the cyclic garbage collector: it would find nothing to collect.

Starting a command imports SQLAlchemy, psycopg, aiohttp and the workbench (and a worker signs
in): hundreds of thousands of objects that live as long as the process. CPython's collector,
run every 700 allocations, walks them again and again while they are made and finds no garbage:
7-10% of a `workbench worker`'s start-up CPU (issue 24; two workers start beside each other on
two cores, before their first request). So start-up runs with the collector paused, and what
it made is then frozen out of later scans (`gc.freeze`, as CPython suggests for a process's
long-lived start-up state); collection resumes as before for everything made afterwards.
Unfrozen, the first collection after start-up would walk all of it once more (no gain).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def start_up(*, own_process: bool) -> Iterator[None]:
    """Pause the collector for the block, then resume it (if it ran). `own_process`: the command
    is the whole process (`workbench ...`), so what exists is frozen first; a caller of `main()`
    inside its own process (a test) keeps its collector as it was: nothing of it is frozen."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if own_process:
                gc.freeze()
            gc.enable()
