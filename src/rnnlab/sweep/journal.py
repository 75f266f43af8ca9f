"""The sweep's journal file: Optuna's JournalFileBackend, checked when opened, and never
appended to after a torn record.

Optuna writes one JSON record a line, each append under the journal lock.  A worker
killed in the middle of an append leaves its last record cut short, without its
newline.  Optuna's reader skips such a last line, but the next append glued a new
record onto it, and the glued line then stopped every later read.  So:

* An append first cuts a torn last record away (under the append lock: nobody is
  writing it).  The operation it held never happened, as Optuna's reader already
  assumed; a trial it would have finished runs again, or adopts its finished run.
* When the journal is opened, every complete line is replayed on its own, as Optuna
  will replay it: a line that is not JSON, has an unknown op code or lacks a field
  is a one-line error naming the line and how to recover.  Moving the journal aside
  starts the sweep's record afresh: the trials of the same configurations adopt the
  finished run folders (sweep/trial.py), so no finished training is lost.
"""

import json
import os
from pathlib import Path

from optuna.storages.journal import JournalFileBackend

# Optuna's own replay, one record at a time (not exported; the class JournalStorage
# replays with when it opens).
from optuna.storages.journal._storage import JournalStorageReplayResult

from rnnlab.errors import RnnlabError

MAX_RECORD = 16 << 20  # a record (one line) longer than this is not Optuna's


class JournalFile(JournalFileBackend):
    """The journal at `path`, checked now; appends start on a record boundary."""

    def __init__(self, path: Path, lock_obj):
        super().__init__(str(path), lock_obj=lock_obj)
        self._path, self._append_lock = Path(path), lock_obj
        check_records(self._path)

    def append_logs(self, logs: list[dict]) -> None:
        """Optuna's append (the same bytes, under the same lock), after a torn record is cut."""
        text = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n"
        self._append_lock.acquire()
        try:
            with open(self._path, "r+b") as f:
                cut_torn_record(f)
                f.seek(0, os.SEEK_END)
                f.write(text.encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
        finally:
            self._append_lock.release()


def cut_torn_record(f) -> None:
    """Truncate the open journal `f` after its last newline (a no-op if it ends in one)."""
    end = f.seek(0, os.SEEK_END)
    position, chunk = end, 1 << 16
    while position > 0:
        start = max(0, position - chunk)
        f.seek(start)
        block = f.read(position - start)
        if position == end and block.endswith(b"\n"):
            return
        newline = block.rfind(b"\n")
        if newline >= 0:
            f.truncate(start + newline + 1)
            return
        position = start
    f.truncate(0)


def check_records(path: Path) -> None:
    """A one-line error unless every complete line of the journal is a record Optuna can
    replay (a last line without its newline is a torn append, which Optuna skips)."""
    replay = JournalStorageReplayResult("rnnlab-check-")  # owns no record: replays quietly
    with open(path, "rb") as f:
        for number, line in enumerate(iter(lambda: f.readline(MAX_RECORD + 1), b""), start=1):
            if len(line) > MAX_RECORD:
                raise damaged(path, number, f"a line over {MAX_RECORD >> 20} MB")
            if not line.endswith(b"\n"):
                return  # torn: the next append cuts it
            try:
                record = json.loads(line)
            except ValueError:
                raise damaged(path, number, "not a JSON record") from None
            if not isinstance(record, dict) or "op_code" not in record:
                raise damaged(path, number, "not a record of Optuna's (no op_code)")
            try:
                replay.apply_logs([record])
            except AssertionError:
                raise damaged(path, number, f"unknown op code {record['op_code']!r}") from None
            except Exception as error:  # noqa: BLE001 - whatever Optuna's replay trips on
                what = f"a record Optuna cannot replay: {type(error).__name__} {error}"
                raise damaged(path, number, what) from None


def damaged(path: Path, line: int, what: str) -> RnnlabError:
    return RnnlabError(
        f"the sweep journal {path} is damaged at line {line} ({what}): move it aside "
        f"(mv {path} {path}.damaged) and run the same command again; the trials of its "
        "finished run folders are adopted, not trained again"
    )
