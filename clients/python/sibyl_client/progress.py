"""tune()'s progress: one line rewritten in place on a terminal, a line per finished trial
anywhere else (a log file, a pipe, a notebook cell)."""
from __future__ import annotations

import sys
import threading
from typing import Optional, TextIO


def _interactive(stream: TextIO) -> bool:
    # A notebook's stdout claims no TTY; its cells show plain lines well.
    if "ipykernel" in sys.modules:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    def __init__(self, study: str, total: int, direction: str, stream: Optional[TextIO] = None,
                 enabled: bool = True) -> None:
        self.study = study
        self.total = total
        self.minimize = direction == "minimize"
        self.stream: TextIO = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.in_place = enabled and _interactive(self.stream)
        self.done = 0
        self.running = 0
        self.failed = 0
        self.best: Optional[float] = None
        self.best_trial: Optional[str] = None
        self._lock = threading.Lock()
        self._width = 0

    def started(self) -> None:
        with self._lock:
            self.running += 1
            if self.in_place:
                self._draw()

    def finished(self, trial: str, state: str, value: Optional[float]) -> None:
        with self._lock:
            self.running -= 1
            self.done += 1
            if state != "SUCCEEDED" and state != "EARLY_STOPPED":
                self.failed += 1
            if value is not None and state == "SUCCEEDED" and (
                    self.best is None or (value < self.best if self.minimize else value > self.best)):
                self.best, self.best_trial = value, trial
            if self.in_place:
                self._draw()
            elif self.enabled:
                shown = "" if value is None else f" {value:.6g}"
                self.stream.write(f"{self.study} [{self.done}/{self.total}] {trial} {state}{shown}{self._best_text()}\n")
                self.stream.flush()

    def close(self) -> None:
        with self._lock:
            if self.in_place:
                self._draw()
                self.stream.write("\n")
                self.stream.flush()

    def _best_text(self) -> str:
        return "" if self.best is None else f" · best {self.best:.6g} ({self.best_trial})"

    def _draw(self) -> None:
        failed = f" · {self.failed} failed" if self.failed else ""
        line = f"{self.study}: {self.done}/{self.total} trials · {self.running} running{failed}{self._best_text()}"
        pad = max(0, self._width - len(line))
        self._width = len(line)
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
