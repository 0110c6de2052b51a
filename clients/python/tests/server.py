"""A real ``sibyl serve`` for the tests, as a child process: started on a free port with its own
data directory, stopped with SIGTERM, and restarted on the same port and data directory.

Node and the CLI come from SIBYL_NODE and SIBYL_MAIN (set by test/python-client.test.ts), by
default ``node`` and the repository's dist/src/cli/main.js. A missing one is an error, not a skip.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from typing import List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
FIRST_LINE = re.compile(r"HTTP on http://127\.0\.0\.1:(\d+)")


class SibylServer:
    def __init__(self, token: Optional[str] = None) -> None:
        self.node = os.environ.get("SIBYL_NODE") or shutil.which("node") or ""
        self.main = os.environ.get("SIBYL_MAIN") or os.path.join(REPO, "dist", "src", "cli", "main.js")
        if not self.node or not os.path.exists(self.node):
            raise RuntimeError(f"node not found (SIBYL_NODE={os.environ.get('SIBYL_NODE')!r}); the tests need a real sibyl serve")
        if not os.path.exists(self.main):
            raise RuntimeError(f"{self.main} is missing: build first (npx tsc -p tsconfig.json)")
        self.token = token
        self.root = tempfile.mkdtemp(prefix="sibyl-py-")
        self.data_dir = os.path.join(self.root, "data")
        self.port = 0
        self.proc: Optional[subprocess.Popen] = None
        self.stderr: List[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "SibylServer":
        args = [self.node, self.main, "serve", "--data-dir", self.data_dir, "--http-port", str(self.port),
                "--grpc-port", "0", "--runtime", "external"]
        if self.token is not None:
            args += ["--token", self.token]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.root)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        match = FIRST_LINE.search(line)
        if not match:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise RuntimeError(f"sibyl serve did not start: {line!r} {err[-2000:]}")
        self.port = int(match.group(1))
        # Keep reading its pipes so it never blocks on a full one.
        self._drainer = threading.Thread(target=self._drain, args=(self.proc,), daemon=True)
        self._drainer.start()
        return self

    def _drain(self, proc: subprocess.Popen) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.stderr.append(line)
            del self.stderr[:-200]

    def stop(self) -> int:
        """SIGTERM, and its exit code (0: a clean shutdown)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return 0
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        self._drainer.join(10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe:
                pipe.close()
        return code

    def restart(self) -> None:
        """Stopped and started again on the same port and data directory."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
