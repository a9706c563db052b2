"""Attack: read and write another process's memory with process_vm_readv/writev — a child
targets its parent's secret buffer, which same-uid DAC alone would allow."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_PROCESS_VM_READV = 310
SYS_PROCESS_VM_WRITEV = 311
SECRET = b"stacksync-parent-secret"


class IoVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


def transfer(number, parent, remote_address, local_bytes):
    local_buffer = ctypes.create_string_buffer(local_bytes, len(SECRET))
    local = IoVec(ctypes.addressof(local_buffer), len(SECRET))
    remote = IoVec(remote_address, len(SECRET))
    report = raw_syscall(number, parent, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    report["local_after"] = local_buffer.raw.decode("latin-1")
    return report


def main():
    secret = ctypes.create_string_buffer(SECRET, len(SECRET))
    parent = os.getpid()
    address = ctypes.addressof(secret)
    read = in_child(lambda: transfer(SYS_PROCESS_VM_READV, parent, address, b"\0" * len(SECRET)))
    write = in_child(lambda: transfer(SYS_PROCESS_VM_WRITEV, parent, address, b"X" * len(SECRET)))
    return {"readv": read, "writev": write, "parent_secret_after": secret.raw.decode("latin-1")}
