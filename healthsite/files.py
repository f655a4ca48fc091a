"""Reading input files safely: only regular files, never through a link out of their folder."""

from __future__ import annotations

import errno
import os
import stat


class NotRegular(OSError):
    """A path that is not a regular file (a named pipe, a device, a socket, a folder)."""


_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
          (stat.S_ISSOCK, "a socket"))


def kind(mode: int) -> str:
    """What a file that is neither a regular file nor a folder is, in words."""
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def read_regular(path: str) -> bytes:
    """The bytes of a regular file. Anything else raises OSError before a byte is read (a
    folder IsADirectoryError, a named pipe, device or socket NotRegular): it is opened
    without blocking, so a pipe with no writer cannot stall the build, and looked at
    through the open file, so it cannot be swapped for one in between."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with open(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not stat.S_ISREG(mode):
            raise NotRegular(errno.EINVAL, f"not a regular file but {kind(mode)}", path)
        return fh.read()


def outside(path: str, folder: str) -> bool:
    """Whether `path` is a symbolic link (or lies in a linked folder) whose target is not
    inside `folder` (a real path, links resolved)."""
    real = os.path.realpath(path)
    return real != folder and not real.startswith(folder.rstrip("/") + "/")


def undecodable(name: str) -> bool:
    """Whether a file name (as os gives it, bytes that are not UTF-8 as surrogates) is not
    UTF-8 text: it cannot be a URL, a link target or a line of the build's output."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def printable(name: str) -> str:
    """A file name for messages: bytes that are not UTF-8 written as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def linked_out(root: str, folders: tuple[str, ...]) -> list[str]:
    """The input folders of a site that are symbolic links to somewhere outside it: what
    they hold must not be read (or published) any more than a file linked out of them."""
    real = os.path.realpath(root)
    return [name for name in folders
            if os.path.islink(os.path.join(root, name))
            and outside(os.path.join(root, name), real)]
