"""Writing files so that a failed save never destroys the previous file.

Every save of the package (models, drawings, explorer pages, the demo's outputs)
goes through `atomic_write`: the bytes go to a temporary file beside the target,
are fsynced, and only then replace it with `os.replace` (atomic on POSIX and
Windows). Links are followed, hard links kept, devices and pipes written
into (not replaced), and read-only files refused.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write `data` (text or bytes) to `path` atomically; return `path` as a Path.

    A symbolic link is followed: the file it points to gets the new bytes and
    the link stays. A file with several hard links is written in place, so every
    name sees the new bytes; that write is not atomic (replacing the file would
    split the links). So is the write to a file the user may write in a folder
    where they may not create the temporary file (the shell's `>` writes it). A
    device or a pipe (/dev/null, /dev/stdout) is written into, as `>` does, never
    replaced. A file the user may not write (mode 0444, as the shell's `>` would
    refuse) raises PermissionError. Every error is an OSError naming the target,
    and no temporary file is left behind.
    """
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    try:
        followed = os.stat(path)
    except OSError:
        followed = None
    if followed is not None and not stat.S_ISREG(followed.st_mode) and not stat.S_ISDIR(followed.st_mode):
        _write_stream(Path(path), payload)  # /dev/null, a terminal, a pipe: never replaced by a file
        return Path(path)
    target = Path(os.path.realpath(path))  # a symlink's target, so the link itself survives
    try:
        existing: os.stat_result | None = target.stat()
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise _naming(exc, target) from None
    if existing is not None:
        _check_writable(target, existing)
        if existing.st_nlink > 1 or not os.access(target.parent, os.W_OK | os.X_OK):
            _write_in_place(target, payload)  # keeps hard links; or no temporary file may be made beside it
            return Path(path)
    _replace(target, payload, existing)
    return Path(path)


def _check_writable(target: Path, existing: os.stat_result) -> None:
    """IsADirectoryError or PermissionError naming `target` when it cannot be overwritten."""
    if stat.S_ISDIR(existing.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(target))
    if not os.access(target, os.W_OK):  # root may write anything, as the shell's `>` may
        raise PermissionError(13, "Permission denied: the file is read-only for this user", str(target))


def _replace(target: Path, payload: bytes, existing: os.stat_result | None) -> None:
    """Write `payload` to a temporary file beside `target`, then rename it over `target`."""
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _naming(exc, target) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file owner-only; give it the old file's mode, or what open() would.
        os.chmod(temporary, existing.st_mode & 0o777 if existing is not None else 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise _naming(exc, target) from None
        raise


def _write_in_place(target: Path, payload: bytes) -> None:
    """Overwrite `target`'s bytes through its existing inode (keeps every hard link)."""
    try:
        with open(target, "r+b") as f:
            f.write(payload)
            f.truncate()
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise _naming(exc, target) from None


def _write_stream(target: Path, payload: bytes) -> None:
    """Write `payload` into a device or pipe (through `target` as given: /dev/stdout of a pipe has
    no path to resolve), as the shell's `>` does; atomicity means nothing for a stream."""
    try:
        with open(target, "wb") as f:
            f.write(payload)
    except OSError as exc:
        raise _naming(exc, target) from None


def _naming(exc: OSError, target: Path) -> OSError:
    """The same kind of error (errno and message) with `target` as its file name, not a temporary's."""
    if exc.errno is None:
        return OSError(f"{exc}: {target}")
    return OSError(exc.errno, exc.strerror or str(exc), str(target))


def _umask() -> int:
    """The process's umask, read without changing it where Linux says it (else set and restored)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0)
    os.umask(umask)
    return umask
