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
import stat
import subprocess
import sys
import textwrap
import threading
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


# --- links and permissions (issue 19, item 4) --------------------------------------------------
def test_a_save_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    model = MLP(2, [2, 1], seed=0)
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text(encoding="utf-8")) == model.to_dict()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_a_save_through_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "made.txt")
    atomic_write(link, "new")
    assert link.is_symlink() and (tmp_path / "made.txt").read_text(encoding="utf-8") == "new"


def test_a_save_over_a_hard_link_updates_every_name(tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("a much longer old content than the new one", encoding="utf-8")
    os.link(first, second)
    atomic_write(first, "new")
    assert second.read_text(encoding="utf-8") == "new" == first.read_text(encoding="utf-8")
    assert first.stat().st_ino == second.stat().st_ino and first.stat().st_nlink == 2


READ_ONLY_SAVE = textwrap.dedent(
    """
    import os, sys
    from autograd_mini.files import atomic_write
    path = sys.argv[1]
    os.setgid(65534)
    os.setuid(65534)  # nobody: from here on an ordinary user, for whom mode 0444 means read-only
    try:
        atomic_write(path, "new")
    except PermissionError as exc:
        print("refused:", exc)
    else:
        print("written")
    """
)


def test_a_read_only_file_is_refused_for_an_ordinary_user(tmp_path: Path) -> None:
    if not hasattr(os, "setuid") or os.geteuid() != 0:
        pytest.skip("dropping to an ordinary user needs root (and as a non-root user the 0444 test below runs)")
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="atomic-0444-"))  # /tmp, so `nobody` can reach it
    try:
        os.chown(folder, 65534, 65534)
        path = folder / "model.json"
        path.write_text("old", encoding="utf-8")
        os.chown(path, 65534, 65534)
        path.chmod(0o444)
        done = subprocess.run(
            [sys.executable, "-c", READ_ONLY_SAVE, str(path)],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("refused:") and str(path) in done.stdout, done.stdout
        assert path.read_text(encoding="utf-8") == "old"
        assert sorted(p.name for p in folder.iterdir()) == ["model.json"]
    finally:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()


def test_a_read_only_file_is_refused_as_a_non_root_user(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root may write a 0444 file (as the shell may); the setuid test above covers this")
    path = tmp_path / "model.json"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o444)
    with pytest.raises(PermissionError, match="model.json"):
        MLP(1, [1], seed=0).save(path)
    assert path.read_text(encoding="utf-8") == "old"


def test_a_folder_as_target_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "a-folder").mkdir()
    with pytest.raises(IsADirectoryError, match="a-folder"):
        atomic_write(tmp_path / "a-folder", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["a-folder"]


@pytest.mark.parametrize("failure", [OSError(errno.EIO, "Input/output error"), KeyboardInterrupt()])
def test_a_failed_save_names_the_target_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    path = tmp_path / "model.json"
    path.write_text("old", encoding="utf-8")

    def fail(*args: object) -> None:
        raise failure

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(type(failure)) as caught:
        atomic_write(path, "new")
    if isinstance(failure, OSError):
        assert caught.value.filename == str(path) and caught.value.errno == errno.EIO
        assert ".tmp" not in str(caught.value)
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


# --- targets that are not regular files: write into them as the shell's `>` does, never replace them
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX only")
def test_a_save_to_a_named_pipe_writes_into_it_and_keeps_the_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    try:
        atomic_write(fifo, "through the pipe")
    finally:
        reader.join(timeout=10)
        if reader.is_alive():  # nothing opened the pipe for writing: let the reader see its end
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            reader.join()
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # replacing it would leave a regular file here
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_save_to_a_character_device_writes_into_it_and_keeps_the_device(tmp_path: Path) -> None:
    """`MLP.save("/dev/null")` or `draw -o /dev/null` as root replaced /dev/null with a regular file."""
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null's numbers, in tmp_path
    except (OSError, AttributeError) as exc:
        pytest.skip(f"making a device node needs root on Linux: {exc}")
    atomic_write(device, "gone to /dev/null")
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="/proc/self/fd (as /dev/stdout) is Linux's")
def test_a_save_to_dev_stdout_when_it_is_a_pipe_reaches_the_reader() -> None:
    """`draw -o /dev/stdout | ...`: /proc/self/fd/N of a pipe is a link with no real target to resolve."""
    read_end, write_end = os.pipe()
    try:
        atomic_write(f"/proc/self/fd/{write_end}", "to stdout")
        os.close(write_end)
        write_end = -1
        assert os.read(read_end, 100) == b"to stdout"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def test_a_writable_file_in_a_folder_the_user_cannot_write_is_written_in_place(tmp_path: Path) -> None:
    """The shell's `>` writes such a file; the temporary file beside it cannot be made, so the save
    writes through the file itself (not atomically) instead of refusing a file the user may write."""
    if not hasattr(os, "setuid") or os.geteuid() != 0:
        pytest.skip("dropping to an ordinary user needs root")
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="atomic-folder-"))  # root's, 0755: `nobody` may not add files
    try:
        folder.chmod(0o755)
        path = folder / "model.json"
        path.write_text("old and longer", encoding="utf-8")
        os.chown(path, 65534, 65534)  # but the file is nobody's to write
        done = subprocess.run(
            [sys.executable, "-c", READ_ONLY_SAVE, str(path)],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "written", done.stdout
        assert path.read_text(encoding="utf-8") == "new"
        assert sorted(p.name for p in folder.iterdir()) == ["model.json"]
    finally:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()
