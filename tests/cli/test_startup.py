"""A command starts with the collector paused; only a whole process freezes what it made."""

from __future__ import annotations

import gc
import subprocess
import sys

from workbench.cli.startup import start_up


def test_a_call_from_python_gets_its_collector_back_as_it_was() -> None:
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    with start_up(own_process=False):
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    gc.disable()
    try:
        with start_up(own_process=False):
            pass
        assert not gc.isenabled()  # paused by its caller: left paused
    finally:
        gc.enable()


def test_a_whole_process_freezes_its_start_up_and_collects_what_comes_after() -> None:
    script = """
import gc, sys, weakref
from workbench.cli.startup import start_up
with start_up(own_process=True):
    import workbench.cli.main
assert gc.isenabled() and gc.get_freeze_count() > 0, gc.get_freeze_count()
class Node: pass
node = Node(); node.me = node; gone = weakref.ref(node); del node
gc.collect()
assert gone() is None, "a cycle made after start-up is collected"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_command_line_passes_through_start_up() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "worker", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "--concurrency" in done.stdout, done.stderr


END_PROCESS = """
import atexit, sys, threading
from workbench.cli.startup import end_process
atexit.register(lambda: print("atexit ran", file=sys.stderr))
class Noisy:
    def __del__(self):
        print("torn down", file=sys.stderr)
keep = Noisy()  # freed by the interpreter's teardown, which end_process skips
if sys.argv[1] == "thread":
    release = threading.Event()
    threading.Thread(target=release.wait, args=(5,)).start()
    threading.Timer(0.5, release.set).start()
print("buffered", end="")  # no newline, to a pipe: still in the buffer at end_process
sys.exit(end_process(3))
"""


def test_end_process_flushes_runs_atexit_and_skips_the_teardown() -> None:
    done = subprocess.run(
        [sys.executable, "-c", END_PROCESS, "alone"], capture_output=True, text=True
    )
    assert done.returncode == 3
    assert done.stdout == "buffered"
    assert done.stderr.splitlines() == ["atexit ran"]  # and no "torn down"


def test_end_process_leaves_a_process_with_a_running_thread_to_the_ordinary_exit() -> None:
    done = subprocess.run(
        [sys.executable, "-c", END_PROCESS, "thread"], capture_output=True, text=True
    )
    assert done.returncode == 3
    assert done.stdout == "buffered"
    assert done.stderr.splitlines() == ["atexit ran", "torn down"]
