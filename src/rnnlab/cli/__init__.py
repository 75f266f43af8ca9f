"""The `rnnlab` command: parses arguments, calls the library, prints.

Every way a command can end has its exit code (`main`); user mistakes end as
one line on stderr and exit code 2, never a traceback.
"""

import errno
import os
import sys
import traceback

from . import stopping

stopping.install(defer=True)  # a stop signal while the command line imports: main() ends it

from ..engine.startup import check_backend, choose_device, device_in_use, import_keras  # noqa: E402
from ..errors import RnnlabError  # noqa: E402
from .options import EXIT_BROKEN_PIPE, EXIT_BUG, EXIT_INTERRUPTED, EXIT_USAGE  # noqa: E402
from .parser import build_parser  # noqa: E402

__all__ = ["build_parser", "main"]
KERAS_COMMANDS = {"train", "evaluate", "predict", "page"}


def main(argv=None) -> int:
    """The error boundary: every way a command can end, and its exit code.

    0 success; 2 a mistake in the input or the environment (one line that says
    how to fix it); 130 Ctrl-C; 141 the reader of our output went away (`| head`);
    1 a bug: one line, and the traceback with RNNLAB_DEBUG=1.
    """
    words = sys.argv[1:] if argv is None else argv
    command = next((word for word in words if not word.startswith("-")), "")
    stopping.install()  # Ctrl-C and `kill` end a command the same way (stopping.py)
    _never_fail_on_encoding()
    try:
        stopping.raise_pending()  # a signal while the command line imported
        check_backend()
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        command = args.command
        # argparse stops filling `predict`'s TEXT list at the first option, so that
        # `rnnlab predict RUN --explain "text"` leaves "text" over: it is a review too.
        if extra and args.command == "predict" and not any(e.startswith("-") for e in extra):
            args.texts += extra
        elif extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        if hasattr(args, "device"):
            check_device(args)
            choose_device(args.device)  # before JAX starts, here and in child processes
        if args.command in KERAS_COMMANDS:
            with stopping.deferred():  # never half an import of JAX
                import_keras()  # the start-up saving; the others need no Keras in this process
        if getattr(args, "device", "cpu") != "cpu":
            device_in_use()  # a missing GPU is said here, not blamed on what first needs it
        args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        if stopping.received:  # a KeyboardInterrupt that something swallowed on the way
            raise KeyboardInterrupt
    except RnnlabError as error:
        return _fail(command, str(error), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail(command, "interrupted; what finished is kept", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # Whoever read our output stopped (`| head`): end quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as error:
        return _fail(command, describe(error), EXIT_USAGE)
    except MemoryError:
        return _fail(command, "out of memory: choose smaller settings", EXIT_USAGE)
    except Exception as error:
        if os.environ.get("RNNLAB_DEBUG") == "1":
            traceback.print_exc()
        message = f"internal error ({type(error).__name__}: {error}): a bug in rnnlab; "
        message += "rerun with RNNLAB_DEBUG=1 for the traceback, and report it"
        return _fail(command, message, EXIT_BUG)
    return 0


def check_device(args) -> None:
    """The fused kernels run on the CPU only: refuse them with --device gpu, at once."""
    engines = getattr(args, "engine", None)
    engines = engines if isinstance(engines, list) else [engines]
    if args.device == "gpu" and "fused" in engines:
        raise RnnlabError("the fused engine runs on the CPU only: drop --device gpu, or use "
                          "--engine keras")  # fmt: skip


def _never_fail_on_encoding() -> None:
    """Output in the terminal's encoding (PYTHONIOENCODING=ascii, a C locale), with what
    it cannot show escaped (\\uc88b) instead of a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


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
