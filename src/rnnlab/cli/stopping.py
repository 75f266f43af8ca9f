"""Stop signals (Ctrl-C, SIGTERM): a command ends with exit code 130 whenever one arrives.

A stop signal raises KeyboardInterrupt, which unwinds through the `finally`s and
`except BaseException` clean-ups that remove temporary files, so nothing is left
half-written.  Two moments need more than that:

* Start-up.  While the command line and Keras (with JAX) import, nothing is written,
  and a KeyboardInterrupt in the middle of an import leaves half-built modules behind
  (JAX's, which then crash the interpreter as it exits).  Inside `deferred()` a
  signal is only recorded, and raised when the block ends.
* Code that cannot raise.  Python swallows an exception raised in a gc callback (JAX
  runs one, `_xla_gc_callback`, at every collection), a weakref callback or a
  `__del__`: it prints "Exception ignored in ..." and carries on, so the command
  would finish as if never stopped.  A signal that comes inside a gc callback is
  not raised there but delivered again a moment later; `sys.unraisablehook` does
  the same for a KeyboardInterrupt swallowed anywhere else (and drops the message).

Once a KeyboardInterrupt is on its way, later signals are only recorded, so that the
clean-ups it runs are not cut short in turn.  `received` says whether a stop signal
came; the error boundary (cli.main) ends the command with 130 whenever it did, however
the command itself ended.
"""

import gc
import os
import signal
import sys
import threading
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
received: int | None = None  # the first stop signal this process took
_deferring = 0
_pending = False  # a signal came inside deferred(): raise it when the block ends
_raised = False  # a KeyboardInterrupt is unwinding the command
_previous_unraisable_hook = None


def install(defer: bool = False) -> None:
    """Take SIGINT (unless it is ignored, as for a command started in the background by a
    shell) and SIGTERM; with `defer`, a signal is only recorded until `raise_pending()`."""
    global _deferring, _previous_unraisable_hook
    if defer:
        _deferring += 1
    for signum in STOP_SIGNALS:
        ignored = signum == signal.SIGINT and signal.getsignal(signum) is signal.SIG_IGN
        if not ignored:
            signal.signal(signum, _on_signal)
    if sys.unraisablehook is not _on_unraisable:
        _previous_unraisable_hook = sys.unraisablehook
        sys.unraisablehook = _on_unraisable


def raise_pending() -> None:
    """End the start-up deferral: a signal recorded meanwhile raises KeyboardInterrupt now."""
    global _deferring, _pending
    _deferring = max(0, _deferring - 1)
    if _pending and not _deferring:
        _pending = False
        _raise()


@contextmanager
def deferred():
    """A block that a stop signal does not cut (imports): it is raised when the block ends."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        raise_pending()


def _on_signal(signum, frame):
    global received, _pending
    received = received or signum
    if _deferring:
        _pending = True
    elif _inside_gc_callback(frame):
        _deliver_again()
    elif not _raised:
        _raise()


def _inside_gc_callback(frame) -> bool:
    callbacks = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    while frame is not None:
        if frame.f_code in callbacks:
            return True
        frame = frame.f_back
    return False


def _deliver_again() -> None:
    """The signal again in 10 ms, from a thread: the handler then runs in the main
    thread wherever it is by then (Python runs handlers there only)."""
    timer = threading.Timer(0.01, os.kill, (os.getpid(), received))
    timer.daemon = True
    timer.start()


def _raise():
    global _raised
    _raised = True
    raise KeyboardInterrupt


def _on_unraisable(unraisable) -> None:
    global _raised
    if isinstance(unraisable.exc_value, KeyboardInterrupt) and received:
        _raised = False  # swallowed: it unwinds nothing
        _deliver_again()
        return
    (_previous_unraisable_hook or sys.__unraisablehook__)(unraisable)
