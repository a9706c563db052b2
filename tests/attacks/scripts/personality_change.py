"""Attack: personality(2) flags that weaken exploitation defences — disable ASLR
(ADDR_NO_RANDOMIZE), make reads executable, legacy layouts, map page zero."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_PERSONALITY = 135
QUERY = 0xFFFFFFFF
ADDR_NO_RANDOMIZE = 0x0040000
READ_IMPLIES_EXEC = 0x0400000
ADDR_COMPAT_LAYOUT = 0x0200000
MMAP_PAGE_ZERO = 0x0100000


def set_and_read(flag):
    report = raw_syscall(SYS_PERSONALITY, flag)
    report["after"] = raw_syscall(SYS_PERSONALITY, QUERY).get("ret")
    return report


def main():
    current = raw_syscall(SYS_PERSONALITY, QUERY)
    return {"current": current, "outcomes": {
        name: in_child(lambda flag=flag: set_and_read(flag))
        for name, flag in (("ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE), ("READ_IMPLIES_EXEC", READ_IMPLIES_EXEC),
                           ("ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT), ("MMAP_PAGE_ZERO", MMAP_PAGE_ZERO))
    }}
