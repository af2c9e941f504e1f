"""Keep a long-running, many-threaded daemon's memory flat.

glibc's malloc gives threads that allocate at the same time their own heap arenas (up to eight
per core) and rarely hands their free pages back. A daemon with a pool of check threads then
carries a hundred megabytes of mostly empty arenas: measured with 100,000 stories, the worker's
RSS was 234 MB with the default and 148 MB with two arenas, at the same throughput.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_ARENA_MAX = -8  # from glibc's malloc.h
DAEMON_MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = DAEMON_MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process and the processes it starts from now on.

    An operator's own ``MALLOC_ARENA_MAX`` wins. Returns whether the cap was applied (False on
    other platforms or C libraries, where this is a no-op)."""
    if not sys.platform.startswith("linux"):
        return False
    own = os.environ.setdefault("MALLOC_ARENA_MAX", str(arenas))
    if not own.strip().isdigit():
        return False  # not a count: glibc ignores it, and so do we (no crash at start-up)
    arenas = int(own)
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
