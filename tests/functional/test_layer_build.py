"""The layer build (infra/layer/Makefile, run by `sam build`) finds a Python that can run it, or says what to install.

It runs pip on the host to fetch the runtime's wheels and reads pyproject.toml with tomllib, so it needs Python 3.11
or newer with pip. A bare `python3` is often older (3.10 on Ubuntu 22.04, 3.9 on macOS).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER_MAKEFILE = ROOT / "infra" / "layer" / "Makefile"
MAKE = shutil.which("make") or "make"


def _interpreter(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _layer_make(folder: Path, target: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The layer's make, with nothing on PATH but the interpreters the test put there."""
    return subprocess.run(
        [MAKE, "--no-print-directory", "-f", str(LAYER_MAKEFILE), target, *args],
        cwd=folder,
        env={"PATH": str(folder / "bin")},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_only_an_old_python3_the_build_stops_first_and_names_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    # Python 3.10 as far as the check can tell: `import tomllib` fails
    _interpreter(tmp_path / "bin", "python3", "echo \"ModuleNotFoundError: No module named 'tomllib'\" >&2; exit 1")

    built = _layer_make(tmp_path, "build-MurmurLayer", f"ARTIFACTS_DIR={tmp_path / 'artifacts'}")

    assert built.returncode != 0
    assert "the layer build needs Python 3.11 or newer with pip" in built.stderr
    assert "HOST_PYTHON=/path/to/python3.11" in built.stderr
    assert not (tmp_path / "artifacts").exists()  # stopped before anything was removed or downloaded


def test_a_newer_python_on_path_is_preferred_to_an_old_python3(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    _interpreter(tmp_path / "bin", "python3", "exit 1")
    _interpreter(tmp_path / "bin", "python3.11", f'exec "{sys.executable}" "$@"')

    found = _layer_make(tmp_path, "host-python")

    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == f"layer build: pip from {tmp_path / 'bin' / 'python3.11'}"


def test_a_named_interpreter_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    _interpreter(tmp_path / "bin", "python3", "exit 1")

    refused = _layer_make(tmp_path, "host-python", f"HOST_PYTHON={tmp_path / 'bin' / 'python3'}")

    assert refused.returncode != 0
    assert "is not Python 3.11 or newer with pip" in refused.stderr
