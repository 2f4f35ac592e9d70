"""Files: atomic writes that respect links and permissions, and guarded reads of untrusted paths.

Writers go through ``atomic_open`` (a crash never leaves a half-written
file; a symlink is followed and the file keeps its permissions and owner;
what is not a regular file, such as ``/dev/null`` or a FIFO, and a read-only
file are refused, never replaced) or ``write_new`` (never replaces an
existing file). Readers go through ``read_text``/``read_json``, which refuse
what is not a regular file (a FIFO, ``/dev/zero``, a folder) and anything
larger than ``MAX_READ_BYTES`` before reading, so a hostile path can neither
hang nor exhaust memory; ``read_json`` refuses a key given twice.
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

__all__ = [
    "MAX_JSON_DEPTH", "MAX_READ_BYTES", "atomic_open", "check_writable_folder", "json_depth", "read_json",
    "read_text", "write_new",
]

MAX_READ_BYTES = 1 << 30  # 1 GiB: far above any checkpoint or history this library writes
MAX_JSON_DEPTH = 200      # nesting deeper than this is refused: no file of ours nests past a handful


def _renamed(error: OSError, path: str) -> OSError:
    """``error`` again, naming the user's ``path`` instead of a temporary file (or of no file)."""
    new = type(error)(error.errno, error.strerror or str(error), path)
    new.__cause__ = None
    return new


def _kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words: 'a folder', 'a FIFO', 'a character device', ..."""
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "not a regular file"


def _file_to_replace(real: str, path: str) -> os.stat_result | None:
    """The status of the file at ``real`` (``path`` with its links followed) that a write would replace,
    or None when there is none; refuses what a write must not replace."""
    try:
        info = os.stat(real)
    except OSError:  # nothing there (or nothing we may look at): creating the file reports any real problem
        return None
    _check_regular_target(info, path)
    _check_not_read_only(real, info, path)
    return info


def _check_regular_target(info: os.stat_result, path: str) -> None:
    """Only a regular file is replaced: renaming over ``/dev/null``, a FIFO or a socket would put an
    ordinary file in its place (as root, deleting the device) and what was written would go nowhere."""
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path}: {_kind(info.st_mode)}, not a regular file; only a regular file is "
                         f"written (and replaced) here")


def _check_not_read_only(real: str, info: os.stat_result, path: str) -> None:
    """A file marked read-only is not replaced, as plain ``open`` would refuse to write it. For root,
    ``os.access`` calls every file writable, so a file with no write bit at all counts as read-only."""
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not os.access(real, os.W_OK) or (as_root and not info.st_mode & 0o222):
        raise PermissionError(errno.EACCES, "Permission denied: the file is read-only, so it is not replaced",
                              path)


def _keep_owner_and_mode(tmp: str, old: os.stat_result) -> None:
    """Give the new file ``tmp`` the owner, group and permission bits of the file it replaces."""
    if hasattr(os, "chown"):
        try:
            os.chown(tmp, old.st_uid, old.st_gid)  # before chmod: a change of owner may clear set-id bits
        except PermissionError:
            pass  # only root may give a file away; an ordinary user's new copy stays their own
    os.chmod(tmp, stat.S_IMODE(old.st_mode))


def _name_limit(folder: str) -> int:
    """The longest file name (in bytes) ``folder`` takes; 255, the common limit, where it cannot be told."""
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows), or no answer for this folder
        return 255
    return limit if limit > 0 else 255


def _temporary_path(folder: str, name: str) -> str:
    """A fresh path in ``folder`` for the file that will become ``name``: ``.name.<pid>.<random>.tmp``,
    ``name`` shortened so the whole stays within the folder's name limit (a legal name stays writable)."""
    tag = f".{os.getpid()}.{secrets.token_hex(4)}.tmp"
    room = _name_limit(folder) - len(os.fsencode("." + tag))
    while name and len(os.fsencode(name)) > room:
        name = name[:-1]
    return os.path.join(folder, f".{name}{tag}")


def _about_the_file(error: BaseException, tmp: str) -> bool:
    """Whether ``error`` is an operating-system error of the file being written: one naming the temporary
    file, or naming no file at all, as a failed ``write``, ``flush`` or ``fsync`` does (a full disk)."""
    return isinstance(error, OSError) and error.errno is not None and (
        error.filename is None or tmp in (error.filename, error.filename2))


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success flush it to disk and rename it over ``path``.

    Until the rename, ``path`` keeps its old content; if the block raises,
    the temporary file is removed and ``path`` is untouched. A symlink is
    followed: its target is replaced and the link stays. An existing file
    keeps its permission bits (a ``0600`` checkpoint stays ``0600``) and,
    where the writer may set them (as root), its owner and group. Refused
    before anything is written, naming ``path``: a target that exists and is
    not a regular file (ValueError for a device such as ``/dev/null``, a
    FIFO or a socket; IsADirectoryError for a folder) and a read-only file
    (PermissionError). Errors name ``path``, never the temporary file; an
    error of the operating system naming no file (a full disk, say) is
    given ``path`` as its file name.

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
    old = _file_to_replace(real, user_path)
    tmp = _temporary_path(folder, os.path.basename(real))
    try:
        # O_EXCL: a fresh file of our own; mode 0o666 lets the umask decide permissions, as for any file.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise _renamed(e, user_path) from None
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            if old is not None:
                _keep_owner_and_mode(tmp, old)
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, real)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if _about_the_file(e, tmp):
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
    PermissionError when the folder is not writable or ``path`` is a
    read-only file, ValueError when ``path`` is not a regular file (a
    device, a FIFO, a socket), as ``atomic_open`` would refuse it; ``what``
    names the argument in the message.
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
    _file_to_replace(os.path.realpath(path), path)


def _open_regular(path: str, what: str, limit: int) -> IO[bytes]:
    """``path`` open for reading bytes, once it is known to be a regular file of at most ``limit`` bytes
    (ValueError naming ``path`` if not). Its descriptor is closed whenever this fails."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # checked before fdopen, which refuses a folder naming only fd
            raise ValueError(f"{path}: not a regular file ({_kind(info.st_mode)}), so not a {what}")
        if info.st_size > limit:
            raise ValueError(f"{path}: {info.st_size} bytes is more than a {what} may have ({limit} bytes)")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


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
    with _open_regular(path, what, limit) as f:
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


class _KeyGivenTwice(ValueError):
    """A JSON object names ``key`` more than once."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    """A JSON object's dict; _KeyGivenTwice for a key that appears twice (json would keep the last)."""
    value = dict(pairs)
    if len(value) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _KeyGivenTwice(key)
            seen.add(key)
    return value


def read_json(path: str | os.PathLike, what: str = "file") -> Any:
    """The JSON value in the file ``path``, read as ``read_text`` does; ValueError naming ``path`` when
    it is not JSON, names a key twice in one object, nests deeper than ``MAX_JSON_DEPTH`` or holds an
    int too long to parse.

    ``NaN`` and ``Infinity`` read as floats: the loaders check values that must be finite.
    """
    path = os.fspath(path)
    text = read_text(path, what)
    try:
        value = json.loads(text, parse_constant=_constant, object_pairs_hook=_unique_keys)
    except _KeyGivenTwice as e:
        raise ValueError(f"{path}: the key {e.key!r:.80} appears twice in one object; a {what} gives each "
                         f"key once") from None
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
