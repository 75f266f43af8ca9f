"""The `rnnlab` command: parses arguments, calls the library, prints.

Every way a command can end has its exit code (`main`); user mistakes end as
one line on stderr and exit code 2, never a traceback.
"""

import errno
import os
import signal
import sys
import traceback

from ..engine.startup import choose_device, import_keras
from ..errors import RnnlabError
from .options import EXIT_BROKEN_PIPE, EXIT_BUG, EXIT_INTERRUPTED, EXIT_USAGE
from .parser import build_parser

__all__ = ["build_parser", "main"]
KERAS_COMMANDS = {"train", "evaluate", "predict", "page"}


def main(argv=None) -> int:
    """The error boundary: every way a command can end, and its exit code.

    0 success; 2 a mistake in the input or the environment (one line that says
    how to fix it); 130 Ctrl-C; 141 the reader of our output went away (`| head`);
    1 a bug: one line, and the traceback with RNNLAB_DEBUG=1.
    """
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse stops filling `predict`'s TEXT list at the first option, so that
    # `rnnlab predict RUN --explain "text"` leaves "text" over: it is a review too.
    if extra and args.command == "predict" and not any(e.startswith("-") for e in extra):
        args.texts += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` ends a command as Ctrl-C does
    try:
        if hasattr(args, "device"):
            check_device(args)
            choose_device(args.device)  # before JAX starts, here and in child processes
        if args.command in KERAS_COMMANDS:
            import_keras()  # the start-up saving; the others need no Keras in this process
        args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except RnnlabError as error:
        return _fail(args.command, str(error), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail(args.command, "interrupted; what finished is kept", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # Whoever read our output stopped (`| head`): end quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as error:
        return _fail(args.command, describe(error), EXIT_USAGE)
    except MemoryError:
        return _fail(args.command, "out of memory: choose smaller settings", EXIT_USAGE)
    except Exception as error:
        if os.environ.get("RNNLAB_DEBUG") == "1":
            traceback.print_exc()
        message = f"internal error ({type(error).__name__}: {error}): a bug in rnnlab; "
        message += "rerun with RNNLAB_DEBUG=1 for the traceback, and report it"
        return _fail(args.command, message, EXIT_BUG)
    return 0


def check_device(args) -> None:
    """The fused kernels run on the CPU only: refuse them with --device gpu, at once."""
    engines = getattr(args, "engine", None)
    engines = engines if isinstance(engines, list) else [engines]
    if args.device == "gpu" and "fused" in engines:
        raise RnnlabError("the fused engine runs on the CPU only: drop --device gpu, or use "
                          "--engine keras")  # fmt: skip


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _fail(command: str, message: str, code: int) -> int:
    one_line = " ".join(message.split())
    print(f"rnnlab {command}: error: {one_line}", file=sys.stderr)
    return code


_ADVICE = {
    errno.ENOSPC: "free some space, or write somewhere else",
    errno.EDQUOT: "free some space, or write somewhere else",
    errno.EACCES: "check its permissions, or choose another path",
    errno.EPERM: "check its permissions, or choose another path",
    errno.EROFS: "it is on a read-only file system: choose another path",
    errno.EISDIR: "it is a folder where a file was expected: give a file",
    errno.ENOTDIR: "a part of the path is a file where a folder was expected",
    errno.ENOENT: "check the path",
    errno.EEXIST: "something is already there: choose another path",
}


def describe(error: OSError) -> str:
    """An OSError as what happened, where, and what to do."""
    where = f" ({error.filename})" if error.filename else ""
    advice = _ADVICE.get(error.errno, "check the path and the disk")
    return f"{error.strerror or error}{where}: {advice}"
