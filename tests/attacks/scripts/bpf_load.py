"""Attack: bpf(2) — create a map and load a socket-filter program, the usual first step of eBPF
verifier exploits."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

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
