"""The package ships its type hints (issue 11, item 19): `py.typed` is in the package and in the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import autograd_mini

ROOT = Path(__file__).resolve().parent.parent


def test_the_imported_package_has_py_typed() -> None:
    """In CI the package is installed from the wheel (`pip install ".[test]"`), so this checks the wheel too."""
    assert (Path(autograd_mini.__file__).parent / "py.typed").is_file()


def test_the_built_wheel_contains_py_typed(tmp_path: Path) -> None:
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("not run from a source checkout")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if done.returncode != 0 and "hatchling" in done.stderr and "No matching distribution" in done.stderr:
        pytest.skip("the build backend (hatchling) cannot be fetched here")
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("autograd_mini-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "autograd_mini/py.typed" in names
    assert "autograd_mini/files.py" in names
