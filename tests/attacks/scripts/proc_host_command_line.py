"""Attack: learn how the service was started on the host — the command line (and with it host
paths, flags, the script's file name) of every other visible process, the sandbox's init
included: an init cloned from the service without exec still carries the service's argv."""
import os


def main():
    command_lines = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as source:
                raw = source.read(8192)
        except OSError as error:
            command_lines[entry] = "unreadable: %s" % error.strerror
            continue
        command_lines[entry] = raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()[:600]
    return {"command_lines": command_lines}
