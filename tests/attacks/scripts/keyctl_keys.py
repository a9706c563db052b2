"""Attack: the kernel keyring — add_key, request_key, keyctl — shared across the host's processes
of a uid and a long source of kernel bugs."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_ADD_KEY = 248
SYS_REQUEST_KEY = 249
SYS_KEYCTL = 250
KEY_SPEC_PROCESS_KEYRING = -2
KEY_SPEC_USER_KEYRING = -4
KEYCTL_GET_KEYRING_ID = 0
KEYCTL_JOIN_SESSION_KEYRING = 1


def main():
    outcomes = {
        "add_key": attempt_syscall(SYS_ADD_KEY, b"user", b"stacksync-attack", b"secret", 6, KEY_SPEC_PROCESS_KEYRING),
        "request_key": attempt_syscall(SYS_REQUEST_KEY, b"user", b"stacksync-attack", None, 0),
        "keyctl get user keyring": attempt_syscall(SYS_KEYCTL, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 1),
        "keyctl join session": attempt_syscall(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, b"stacksync-attack"),
    }
    return {"outcomes": outcomes}
