"""Attack: load and unload kernel modules — init_module, finit_module, delete_module. The
capability check comes before any argument is used, so the harmless arguments here still show
whether the call is open."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_INIT_MODULE = 175
SYS_DELETE_MODULE = 176
SYS_FINIT_MODULE = 313


def main():
    return {"outcomes": {
        "init_module (empty image)": attempt_syscall(SYS_INIT_MODULE, None, 0, b""),
        "finit_module (bad fd)": attempt_syscall(SYS_FINIT_MODULE, -1, b"", 0),
        "delete_module (no such module)": attempt_syscall(SYS_DELETE_MODULE, b"stacksync_attack_none", os.O_NONBLOCK),
    }}
