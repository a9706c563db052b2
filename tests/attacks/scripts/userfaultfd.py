"""Attack: userfaultfd(2) — the tool that makes kernel race conditions reliably exploitable. With
UFFD_USER_MODE_ONLY the kernel grants it to any user."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_USERFAULTFD = 323
UFFD_USER_MODE_ONLY = 1


def main():
    flags = os.O_CLOEXEC | os.O_NONBLOCK
    return {"outcomes": {
        "userfaultfd user-mode-only": attempt_syscall(SYS_USERFAULTFD, flags | UFFD_USER_MODE_ONLY),
        "userfaultfd": attempt_syscall(SYS_USERFAULTFD, flags),
    }}
