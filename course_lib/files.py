"""Writing a file so that nobody ever sees half of it."""

import os
import tempfile
from pathlib import Path


def write_atomically(path, write):
    """Write ``path`` through a temporary file in the same folder, then rename it into place.

    ``write(file)`` gets the temporary file, opened for binary writing. The
    rename (``os.replace``) is atomic: another process, or a crash half-way,
    sees either the old file or the whole new one, never a truncated one.
    The file gets the usual permissions (0o644), not mkstemp's private 0o600.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path
