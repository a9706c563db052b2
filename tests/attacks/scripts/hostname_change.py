"""Attack: rename the machine with sethostname/setdomainname. The current names are written back,
so a success would change nothing — but it is the finding: without its own UTS namespace and
capabilities dropped this would rename the host."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_SETHOSTNAME = 170
SYS_SETDOMAINNAME = 171


def main():
    current = os.uname()
    host = current.nodename.encode()
    domain = open("/proc/sys/kernel/domainname", "rb").read().strip() if os.path.exists("/proc/sys/kernel/domainname") else b""
    return {"nodename": current.nodename, "outcomes": {
        "sethostname (same name)": attempt_syscall(SYS_SETHOSTNAME, host, len(host)),
        "setdomainname (same name)": attempt_syscall(SYS_SETDOMAINNAME, domain, len(domain)),
    }}
