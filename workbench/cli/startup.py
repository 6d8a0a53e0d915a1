"""A command's start-up without the cyclic garbage collector (it would find nothing to collect),
and, for a command that asks for it, its exit without the interpreter's teardown.

Starting a command imports SQLAlchemy, psycopg, aiohttp and the workbench (and a worker signs
in): hundreds of thousands of objects that live as long as the process. CPython's collector,
run every 700 allocations, walks them again and again while they are made and finds no garbage:
7-10% of a `workbench worker`'s start-up CPU (issue 24; two workers start beside each other on
two cores, before their first request). So start-up runs with the collector paused, and what
it made is then frozen out of later scans (`gc.freeze`, as CPython suggests for a process's
long-lived start-up state); collection resumes as before for everything made afterwards.
Unfrozen, the first collection after start-up would walk all of it once more (no gain).

The same objects are freed one by one when the interpreter tears itself down at exit (modules
cleared, a last collection): 0.16 s of a `workbench worker`'s 0.72 s of CPU on a short run,
after its work is done. `end_process` ends such a process as the standard library's own
`multiprocessing` children end theirs: what the teardown does that anyone can see is done
first (atexit callbacks, among them weakref finalizers and logging's flush; stdout and stderr
flushed), then `os._exit`. The command closes its own connections before (cli/worker.py).
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
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


def end_process(code: int) -> int:
    """End this process with exit status `code`, skipping the interpreter's teardown; if a
    thread other than this one still runs (the interpreter would wait for it), or stdout or
    stderr cannot be flushed, return `code` for the ordinary exit instead."""
    main = threading.main_thread()
    if any(t is not main and t.is_alive() and not t.daemon for t in threading.enumerate()):
        return code
    atexit._run_exitfuncs()  # as the interpreter would, before flushing the standard streams
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):  # a closed pipe: the ordinary exit reports it as it does
        return code
    os._exit(code)
