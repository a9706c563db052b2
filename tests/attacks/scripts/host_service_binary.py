"""Attack: get hold of the StackSync binary — through /proc/1/exe (the sandbox's init), the exe
link and memory maps of every visible process, and the usual install paths. Reading the binary
would hand an attacker the exact code that guards the sandbox."""
import os

MARKER = b"stacksync"
READ_LIMIT = 96 << 20


def contains_marker(path):
    seen = 0
    tail = b""
    try:
        with open(path, "rb") as binary:
            while seen < READ_LIMIT:
                chunk = binary.read(1 << 20)
                if not chunk:
                    return False
                if MARKER in (tail + chunk).lower():
                    return True
                tail = chunk[-len(MARKER):]
                seen += len(chunk)
    except OSError:
        return None
    return False


def main():
    exes = {}
    mapped = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            target = os.readlink("/proc/%s/exe" % entry)
        except OSError as error:
            target = "unreadable: %s" % error.strerror
        exes[entry] = {"target": target, "contains_stacksync": contains_marker("/proc/%s/exe" % entry)}
        try:
            with open("/proc/%s/maps" % entry) as maps:
                for line in maps:
                    if "stacksync" in line.lower():
                        mapped.add(line.split()[-1])
        except OSError:
            pass
    leaked = sorted(pid for pid, info in exes.items()
                    if info["contains_stacksync"] or "stacksync" in info["target"].lower())
    return {"exes": exes, "exe_leaks": leaked, "mapped_stacksync_files": sorted(mapped)}
