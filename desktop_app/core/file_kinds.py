"""Words for the kinds of file the program refuses to read (FIFOs, devices…), for messages."""

from __future__ import annotations

import stat


def file_kind(mode: int) -> str:
    """What `mode` (an `st_mode`) is, for a message: "a named pipe (FIFO)", "a device", "a folder"…"""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "an unusual kind of file"
