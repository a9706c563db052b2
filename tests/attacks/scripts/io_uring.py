"""Attack: io_uring — setup, enter and register. io_uring bypasses per-syscall seccomp checks for
the operations it performs and has been a rich source of kernel exploits. enter/register get a
bad fd: reaching the kernel would answer EBADF, the filter answers first."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_IO_URING_SETUP = 425
SYS_IO_URING_ENTER = 426
SYS_IO_URING_REGISTER = 427


def main():
    params = ctypes.create_string_buffer(120)  # struct io_uring_params, zeroed
    return {"outcomes": {
        "io_uring_setup": attempt_syscall(SYS_IO_URING_SETUP, 4, params),
        "io_uring_enter": attempt_syscall(SYS_IO_URING_ENTER, -1, 0, 0, 0, None, 0),
        "io_uring_register": attempt_syscall(SYS_IO_URING_REGISTER, -1, 0, None, 0),
    }}
