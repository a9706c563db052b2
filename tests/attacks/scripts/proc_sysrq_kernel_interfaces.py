"""Attack: drive the kernel directly — /proc/sysrq-trigger (writes 'h', the harmless help
request, if it can be opened), /proc/kcore, /proc/kmsg, /proc/kallsyms addresses, the kernel
log through syslog(2), /sys/kernel/debug."""
import ctypes
import os

SYSLOG_ACTION_READ_ALL = 3


def try_open(path, flags):
    try:
        fd = os.open(path, flags | os.O_NONBLOCK)
    except OSError as error:
        return None, "%s: %s" % (type(error).__name__, error.strerror)
    return fd, "opened"


def main():
    outcomes = {}
    fd, outcomes["sysrq-trigger"] = try_open("/proc/sysrq-trigger", os.O_WRONLY)
    if fd is not None:
        try:
            os.write(fd, b"h")
            outcomes["sysrq-trigger"] = "wrote"
        except OSError as error:
            outcomes["sysrq-trigger"] = "opened, write failed: %s" % error.strerror
        os.close(fd)
    for path in ("/proc/kcore", "/proc/kmsg", "/dev/kmsg"):
        fd, outcomes[path] = try_open(path, os.O_RDONLY)
        if fd is not None:
            try:
                outcomes[path] = "read %d bytes" % len(os.read(fd, 64))
            except OSError as error:
                outcomes[path] = "opened, read failed: %s" % error.strerror
            os.close(fd)
    nonzero_symbols = 0
    try:
        with open("/proc/kallsyms") as symbols:
            for _, line in zip(range(2000), symbols):
                if int(line.split()[0], 16) != 0:
                    nonzero_symbols += 1
    except OSError as error:
        outcomes["/proc/kallsyms"] = error.strerror
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(4096)
    returned = libc.klogctl(SYSLOG_ACTION_READ_ALL, buffer, 4096)
    outcomes["syslog read_all"] = ("read %d bytes" % returned if returned >= 0
                                   else "failed: " + os.strerror(ctypes.get_errno()))
    try:
        entries = os.listdir("/sys/kernel/debug")
        outcomes["/sys/kernel/debug"] = "listed %d entries" % len(entries) if entries else "empty"
    except OSError as error:
        outcomes["/sys/kernel/debug"] = error.strerror
    return {"outcomes": outcomes, "kallsyms_nonzero_addresses": nonzero_symbols}
