"""Attack: replace the running kernel with kexec_load / kexec_file_load."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_KEXEC_LOAD = 246
SYS_KEXEC_FILE_LOAD = 320
KEXEC_ARCH_ARM = 40 << 16  # wrong architecture: a privileged caller gets EINVAL, nothing loads


def main():
    return {"outcomes": {
        "kexec_load (wrong arch, no segments)": attempt_syscall(SYS_KEXEC_LOAD, 0, 0, None, KEXEC_ARCH_ARM),
        "kexec_file_load (bad fds)": attempt_syscall(SYS_KEXEC_FILE_LOAD, -1, -1, 0, b"", 0),
    }}
