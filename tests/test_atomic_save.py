"""Saves that fail half-way keep the previous file (issue 11, item 1).

The failure is a real one, made portably: a subprocess lowers its file-size
limit (RLIMIT_FSIZE) below the new file's size and ignores SIGXFSZ, so the
write fails with EFBIG part-way through, as on a full disk. `open(path, "w")`
would already have truncated the old file by then; `files.atomic_write`
writes beside it and only replaces it once everything is on disk.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograd_mini import Value, draw
from autograd_mini.files import atomic_write
from autograd_mini.nn import MLP

pytest.importorskip("resource", reason="RLIMIT_FSIZE is POSIX only")

LIMIT = 4096  # bytes: above the old files' sizes, below the new ones'

FAILING_SAVES = textwrap.dedent(
    """
    import resource, signal, sys
    from autograd_mini import Value, draw
    from autograd_mini.nn import MLP

    model_path, dot_path, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    big_model = MLP(3, [32, 32, 1], seed=1)
    x = Value(1.0, label="x")
    y = x
    for _ in range(200):
        y = y * x + 1
    big_drawing = draw(y, max_nodes=10_000)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    failures = []
    for save, path in ((big_model.save, model_path), (big_drawing.save, dot_path)):
        try:
            save(path)
        except OSError as exc:
            failures.append(exc.errno)
    print(failures)
    """
)


def test_a_save_that_fails_half_way_keeps_the_old_file(tmp_path: Path) -> None:
    model_path, dot_path = tmp_path / "model.json", tmp_path / "graph.dot"
    old_model = MLP(2, [2, 1], seed=0)
    old_model.save(model_path)
    old_drawing = draw(Value(2.0, label="a") * 3)
    old_drawing.save(dot_path)
    old_model_bytes, old_dot_bytes = model_path.read_bytes(), dot_path.read_bytes()
    assert len(old_model_bytes) < LIMIT and len(old_dot_bytes) < LIMIT

    done = subprocess.run(
        [sys.executable, "-c", FAILING_SAVES, str(model_path), str(dot_path), str(LIMIT)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str([errno.EFBIG, errno.EFBIG]), "both saves must fail with EFBIG"
    assert model_path.read_bytes() == old_model_bytes
    assert dot_path.read_bytes() == old_dot_bytes
    reloaded = MLP.load(model_path)
    assert reloaded.to_dict() == old_model.to_dict()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.dot", "model.json"], "temporary files left behind"


def test_a_successful_save_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    MLP(2, [2, 1], seed=0).save(path)
    new = MLP(3, [4, 1], seed=5)
    new.save(path)
    assert json.loads(path.read_text(encoding="utf-8")) == new.to_dict()


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_fresh_save_has_the_permissions_open_would_give(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        with open(tmp_path / "reference", "w", encoding="utf-8") as f:
            f.write("x")
        MLP(1, [1], seed=0).save(tmp_path / "model.json")
        draw(Value(1.0) + 2).save(tmp_path / "graph.dot")
    finally:
        os.umask(previous)
    expected = (tmp_path / "reference").stat().st_mode & 0o777
    assert expected == 0o666 & ~umask
    assert (tmp_path / "model.json").stat().st_mode & 0o777 == expected
    assert (tmp_path / "graph.dot").stat().st_mode & 0o777 == expected


def test_a_save_over_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text("{}", encoding="utf-8")
    path.chmod(0o640)
    MLP(1, [1], seed=0).save(path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_atomic_write_into_a_missing_folder_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        atomic_write(tmp_path / "no-such-folder" / "f.txt", "x")
