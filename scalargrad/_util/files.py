"""Files: atomic writes that respect links and permissions, and guarded reads of untrusted paths.

Writers go through ``atomic_open`` (a crash never leaves a half-written
file; a symlink is followed and the file keeps its permissions) or
``write_new`` (never replaces an existing file). Readers go through
``read_text``/``read_json``, which refuse what is not a regular file (a FIFO,
``/dev/zero``, a folder) and anything larger than ``MAX_READ_BYTES`` before
reading, so a hostile path can neither hang nor exhaust memory.
"""

from __future__ import annotations

import errno
import json
import math
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

__all__ = ["MAX_JSON_DEPTH", "MAX_READ_BYTES", "atomic_open", "check_writable_folder", "json_depth", "read_json",
           "read_text", "write_new"]

MAX_READ_BYTES = 1 << 30  # 1 GiB: far above any checkpoint or history this library writes
MAX_JSON_DEPTH = 200      # nesting deeper than this is refused: no file of ours nests past a handful


def _renamed(error: OSError, path: str) -> OSError:
    """``error`` again, naming the user's ``path`` instead of a temporary file."""
    new = type(error)(error.errno, error.strerror or str(error), path)
    new.__cause__ = None
    return new


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success flush it to disk and rename it over ``path``.

    Until the rename, ``path`` keeps its old content; if the block raises,
    the temporary file is removed and ``path`` is untouched. A symlink is
    followed: its target is replaced and the link stays. An existing file
    keeps its permission bits (a ``0600`` checkpoint stays ``0600``). Errors
    name ``path``, never the temporary file.

    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), 'out.txt')
    >>> with atomic_open(target) as f:
    ...     _ = f.write('done')
    >>> open(target).read()
    'done'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    user_path = os.fspath(path)
    real = os.path.realpath(user_path)  # write through a symlink to its target, as torch.save does
    folder = os.path.dirname(real)
    tmp = os.path.join(folder, f".{os.path.basename(real)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        old_mode = stat.S_IMODE(os.stat(real).st_mode)
    except OSError:
        old_mode = None
    if os.path.isdir(real):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", user_path)
    try:
        # O_EXCL: a fresh file of our own; mode 0o666 lets the umask decide permissions, as for any file.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise _renamed(e, user_path) from None
    try:
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, real)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and tmp in (e.filename, e.filename2):
            raise _renamed(e, user_path) from None
        raise
    _sync_folder(folder)


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_new(path: str | os.PathLike, data: bytes) -> str:
    """Write ``data`` to ``path``, or to ``name-1.ext``, ``name-2.ext``, ... if it exists; the name used.

    An existing file is never replaced: each name is created with ``O_EXCL``.

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> [os.path.basename(write_new(os.path.join(folder, 'g.png'), b'x')) for _ in range(3)]
    ['g.png', 'g-1.png', 'g-2.png']
    """
    path = os.fspath(path)
    stem, ext = os.path.splitext(path)
    for n in range(100000):
        candidate = path if n == 0 else f"{stem}-{n}{ext}"
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return candidate
    raise FileExistsError(errno.EEXIST, "no free name left", path)


def check_writable_folder(path: str | os.PathLike, what: str) -> None:
    """Fail now, not after an epoch of training, when ``path`` could not be written.

    FileNotFoundError when its folder is missing, NotADirectoryError when
    that is a file, IsADirectoryError when ``path`` is a folder,
    PermissionError when the folder is not writable; ``what`` names the
    argument in the message.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.realpath(path)) or "."
    if not os.path.exists(folder):
        raise FileNotFoundError(errno.ENOENT, f"{what}: the folder {folder!r} does not exist", path)
    if not os.path.isdir(folder):
        raise NotADirectoryError(errno.ENOTDIR, f"{what}: {folder!r} is not a folder", path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"{what}: this is a folder, not a file name", path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, f"{what}: the folder {folder!r} is not writable", path)


def read_text(path: str | os.PathLike, what: str = "file", limit: int | None = None) -> str:
    """The UTF-8 text of the regular file ``path`` (a leading byte-order mark is dropped).

    ValueError naming ``path`` for anything but a regular file (a FIFO, a
    device such as ``/dev/zero``, a folder), for a file over ``limit`` bytes
    (default ``MAX_READ_BYTES``)
    and for text that is not UTF-8; FileNotFoundError for a missing file.
    The file is opened with ``O_NONBLOCK``, so a FIFO cannot hang the call.
    """
    path = os.fspath(path)
    limit = MAX_READ_BYTES if limit is None else limit
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path}: not a regular file, so not a {what}")
        if info.st_size > limit:
            raise ValueError(f"{path}: {info.st_size} bytes is more than a {what} may have ({limit} bytes)")
        chunks, total = [], 0
        while total <= limit:  # in chunks: the file may have grown since fstat, and read(limit + 1)
            chunk = f.read(min(1 << 20, limit + 1 - total))  # would set aside a buffer of the limit's size
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        data = b"".join(chunks)
    if len(data) > limit:
        raise ValueError(f"{path}: more than a {what} may have ({limit} bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a {what} (not UTF-8 text)") from None


def json_depth(value: Any) -> int:
    """How deeply dicts and lists nest in ``value`` (0 for a leaf), found without recursion.

    >>> json_depth({'a': [[1], 2]}), json_depth(3)
    (3, 0)
    """
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        elif not isinstance(v, (list, tuple)):
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((item, depth) for item in v if isinstance(item, (dict, list, tuple)))
    return deepest


def _constant(name: str) -> float:
    # json writes nan/inf values as NaN/Infinity; read them back as floats (loaders check finiteness).
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]


def read_json(path: str | os.PathLike, what: str = "file") -> Any:
    """The JSON value in the file ``path``, read as ``read_text`` does; ValueError naming ``path`` when
    it is not JSON, nests deeper than ``MAX_JSON_DEPTH`` or holds an int too long to parse.

    ``NaN`` and ``Infinity`` read as floats: the loaders check values that must be finite.
    """
    path = os.fspath(path)
    text = read_text(path, what)
    try:
        value = json.loads(text, parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: corrupt or truncated {what} ({e.msg} at line {e.lineno}, "
                         f"column {e.colno})") from None
    except RecursionError:
        raise ValueError(f"{path}: not a {what} (nested too deeply)") from None
    except (ValueError, OverflowError) as e:  # e.g. an int longer than sys.get_int_max_str_digits()
        raise ValueError(f"{path}: corrupt {what} ({e})") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"{path}: not a {what} (nested more than {MAX_JSON_DEPTH} levels deep)")
    return value
