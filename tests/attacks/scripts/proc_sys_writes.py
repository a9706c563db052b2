"""Attack: reconfigure the kernel through /proc/sys (hostname, core_pattern — a classic escape —,
ip_forward, overcommit, ASLR, modprobe path) and make the script immune to the OOM killer.
Each file is written with the value just read, so a success changes nothing but is the finding."""

SYSCTLS = ["/proc/sys/kernel/hostname", "/proc/sys/kernel/domainname", "/proc/sys/kernel/core_pattern",
           "/proc/sys/kernel/modprobe", "/proc/sys/kernel/randomize_va_space", "/proc/sys/vm/overcommit_memory",
           "/proc/sys/vm/panic_on_oom", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/fs/file-max",
           "/proc/sys/kernel/pid_max", "/proc/sys/kernel/sysrq", "/proc/sys/user/max_user_namespaces"]


def write_back(path):
    try:
        with open(path, "rb") as source:
            current = source.read()
    except OSError as error:
        return "read failed: %s" % error.strerror
    try:
        with open(path, "wb") as target:
            target.write(current)
        return "succeeded"
    except OSError as error:
        return "%s: %s" % (type(error).__name__, error.strerror)


def main():
    outcomes = {path: write_back(path) for path in SYSCTLS}
    try:
        with open("/proc/self/oom_score_adj", "w") as adjust:
            adjust.write("-1000")
        outcomes["oom_score_adj=-1000"] = "succeeded"
    except OSError as error:
        outcomes["oom_score_adj=-1000"] = "%s: %s" % (type(error).__name__, error.strerror)
    return {"succeeded": sorted(k for k, v in outcomes.items() if v == "succeeded"), "outcomes": outcomes}
