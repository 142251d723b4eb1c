"""Writing files so that a failed save never destroys the previous file.

Every save of the package (models, drawings, explorer pages, the demo's
outputs) goes through `atomic_write`: the bytes go to a temporary file in the
target's own folder, are flushed and fsynced, and only then replace the target
with `os.replace`, which is atomic on POSIX and Windows. A save that fails
half-way (disk full, file-size limit, a kill) leaves the old file as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write `data` (text or bytes) to `path` atomically; return the path.

    The temporary file is removed again when anything fails, and the error
    (an OSError naming the path, as `open` would raise) propagates.
    """
    target = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    folder = target.parent if str(target.parent) else Path(".")
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        _keep_mode(target, temporary)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    return target


def _keep_mode(target: Path, temporary: str) -> None:
    """Give the new file the old one's permissions, or the umask's default for a new file.

    mkstemp creates files readable by the owner only; a saved model or page
    should be as readable as one written with `open(path, "w")`.
    """
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(temporary, mode)
