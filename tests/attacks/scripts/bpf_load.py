"""Attack: bpf(2) — create a map and load a socket-filter program, the usual first step of eBPF
verifier exploits."""
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

import struct

SYS_BPF = 321
BPF_MAP_CREATE = 0
BPF_PROG_LOAD = 5
BPF_MAP_TYPE_ARRAY = 2
BPF_PROG_TYPE_SOCKET_FILTER = 1
ATTR_SIZE = 128


def main():
    map_attr = ctypes.create_string_buffer(struct.pack("<IIII", BPF_MAP_TYPE_ARRAY, 4, 4, 1), ATTR_SIZE)
    # r0 = 0; exit — the smallest valid program
    instructions = ctypes.create_string_buffer(bytes.fromhex("b700000000000000" "9500000000000000"), 16)
    license_text = ctypes.create_string_buffer(b"GPL")
    prog_attr = ctypes.create_string_buffer(
        struct.pack("<IIQQ", BPF_PROG_TYPE_SOCKET_FILTER, 2, ctypes.addressof(instructions),
                    ctypes.addressof(license_text)), ATTR_SIZE)
    return {"outcomes": {
        "BPF_MAP_CREATE": attempt_syscall(SYS_BPF, BPF_MAP_CREATE, map_attr, ATTR_SIZE),
        "BPF_PROG_LOAD socket filter": attempt_syscall(SYS_BPF, BPF_PROG_LOAD, prog_attr, ATTR_SIZE),
    }}
