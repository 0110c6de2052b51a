"""`pip install` accepts the package offline (no index, no build isolation: Debian's setuptools
builds it), and the installed copy is typed and importable on its own."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import unittest

PACKAGE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


class OfflineInstall(unittest.TestCase):
    def test_pip_installs_it_offline_with_py_typed(self) -> None:
        with tempfile.TemporaryDirectory() as target, tempfile.TemporaryDirectory() as build:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--no-index", "--no-build-isolation", "--no-deps",
                 "--quiet", "--target", target, PACKAGE],
                capture_output=True, text=True, cwd=build, env={**os.environ, "PIP_NO_CACHE_DIR": "1"})
            self.assertEqual(done.returncode, 0, f"pip install failed:\n{done.stdout}\n{done.stderr}")
            self.assertTrue(os.path.exists(os.path.join(target, "sibyl_client", "py.typed")))
            probe = subprocess.run(
                [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); import sibyl_client as s; "
                 "print(s.__file__); print(s.__version__)", target],
                capture_output=True, text=True, cwd=build)
            self.assertEqual(probe.returncode, 0, probe.stderr)
            where, version = probe.stdout.split()
            self.assertTrue(where.startswith(target), where)
            self.assertEqual(version, "0.1.0")


if __name__ == "__main__":
    unittest.main()
