"""What the benchmarks share: children that measure one configuration, and summaries."""

import json
import os
import resource
import statistics
import subprocess
import sys


def peak_mb() -> float:
    """This process's peak resident memory (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def epoch_result(seconds: list[float], cpu_seconds: list[float] | None = None) -> dict:
    """The first epoch (compilation included) and the median of the next ones; with
    `cpu_seconds`, also the median CPU time of those (all threads), which a busy
    machine inflates less than wall time."""
    result = {
        "first_epoch": seconds[0],
        "per_epoch": statistics.median(seconds[1:]),
        "peak_mb": peak_mb(),
    }
    if cpu_seconds:
        result["cpu_per_epoch"] = statistics.median(cpu_seconds[1:])
    return result


def epoch_timer():
    """A Keras callback that records each epoch's seconds (validation included) in .seconds,
    and the process's CPU seconds in .cpu_seconds."""
    import time

    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []
            self.cpu_seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._started = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._started[0])
            self.cpu_seconds.append(time.process_time() - self._started[1])

    return EpochTimer()


def run_child(script: str, name: str, arguments: list[str], env=None) -> dict:
    """Run `script --child NAME arguments` in a fresh Python; its last line is a JSON result."""
    command = [sys.executable, script, "--child", name, *arguments]
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def spread(values: list[float]) -> str:
    """median [min-max] of repeated measurements."""
    return f"{statistics.median(values):.3f} [{min(values):.3f}-{max(values):.3f}]"
