"""Files under artifacts/ reached through directory handles, never through a link.

The container user (uid 10001) owns artifacts/ and can plant a symlink or a hard link at any name in it. A
process running as root (the controller, a bare engine started by root) must never follow one: it would
write, read or chown whatever the link points to. So every path below the artifacts root is walked one
component at a time with O_NOFOLLOW relative to the parent's descriptor (a link anywhere fails with ELOOP
or ENOTDIR), files are created fresh with O_EXCL and renamed over their name (a rename replaces a link, it
never writes through it), and ownership is given with fchown on descriptors we created.

The root itself is the operator's configured path and is opened as given.
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

Owner = tuple[int, int]  # (uid, gid) to give created files and directories to, when running as root

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _parts(relative: str | PurePosixPath) -> list[str]:
    parts = [p for p in PurePosixPath(relative).parts if p not in ("", ".")]
    if any(p in ("..", "/") for p in parts):
        raise ValueError(f"{relative}: not a path inside the artifacts directory")
    return parts


@contextlib.contextmanager
def directory(
    root: Path, relative: str | PurePosixPath = "", create: bool = False, owner: Owner | None = None
) -> Iterator[int]:
    """A descriptor of root/relative, walked without following links; `create` makes what is missing
    (given to `owner` when running as root)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in _parts(relative):
            if create:
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                    if owner is not None:
                        _give(part, fd, owner)
                except FileExistsError:
                    pass
            child = os.open(part, _DIR, dir_fd=fd)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def write_file(
    root: Path, relative: str | PurePosixPath, data: bytes, owner: Owner | None = None, durable: bool = False
) -> None:
    """Replace root/relative atomically with `data` (a link at that name is replaced, not followed)."""
    *parent, name = _parts(relative)
    with directory(root, PurePosixPath(*parent) if parent else "", True, owner) as dir_fd:
        temp = f".{name}.{uuid.uuid4().hex}.tmp"
        fd = os.open(
            temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dir_fd
        )
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
            if owner is not None and os.geteuid() == 0:
                os.fchown(fd, *owner)
        except BaseException:
            os.close(fd)
            os.unlink(temp, dir_fd=dir_fd)
            raise
        os.close(fd)
        os.rename(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        if durable:
            os.fsync(dir_fd)


def read_file(root: Path, relative: str | PurePosixPath) -> bytes:
    """The bytes of root/relative; a link on the way raises OSError (ELOOP/ENOTDIR)."""
    *parent, name = _parts(relative)
    with directory(root, PurePosixPath(*parent) if parent else "") as dir_fd:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise OSError(f"{root / relative}: not a regular file")
            return handle.read()


def open_file(root: Path, relative: str | PurePosixPath, flags: int, owner: Owner | None = None) -> int:
    """A descriptor of root/relative opened with `flags` (plus O_NOFOLLOW); a file it creates is given to
    `owner`."""
    *parent, name = _parts(relative)
    with directory(root, PurePosixPath(*parent) if parent else "", bool(flags & os.O_CREAT), owner) as dir_fd:
        fd = os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dir_fd)
        if owner is not None and os.geteuid() == 0 and os.fstat(fd).st_uid == 0:
            os.fchown(fd, *owner)
        return fd


def move_entries(root: Path, names: Sequence[str], into: str | PurePosixPath, owner: Owner | None) -> None:
    """Rename root/<name> into root/<into>/<name> (a link moves as a link)."""
    with directory(root) as root_fd, directory(root, into, True, owner) as into_fd:
        for name in names:
            (only,) = _parts(name)
            os.rename(only, only, src_dir_fd=root_fd, dst_dir_fd=into_fd)


def give_tree(root: Path, owner: Owner, skip: Sequence[str] = ()) -> int:
    """chown root and everything under it (but the top-level `skip` names) to `owner`, links themselves
    included and never followed; how many entries changed owner."""
    changed = 0
    for top, dirs, files, dir_fd in os.fwalk(root, follow_symlinks=False):
        if Path(top) == root:
            dirs[:] = [d for d in dirs if d not in skip]
            files = [f for f in files if f not in skip]
            st = os.fstat(dir_fd)
            if (st.st_uid, st.st_gid) != owner:
                os.fchown(dir_fd, *owner)
                changed += 1
        for name in [*dirs, *files]:
            if _give(name, dir_fd, owner):
                changed += 1
    return changed


def _give(name: str, dir_fd: int, owner: Owner) -> bool:
    if os.geteuid() != 0:
        return False
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if (st.st_uid, st.st_gid) == owner:
        return False
    os.chown(name, *owner, dir_fd=dir_fd, follow_symlinks=False)
    return True
