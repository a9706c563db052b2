"""Attack: lift the resource limits the sandbox set — raise each hard limit to infinity, then each
soft limit to its hard limit — and report what the limits look like afterwards."""
import resource

LIMITS = {"RLIMIT_CPU": resource.RLIMIT_CPU, "RLIMIT_FSIZE": resource.RLIMIT_FSIZE,
          "RLIMIT_NOFILE": resource.RLIMIT_NOFILE, "RLIMIT_NPROC": resource.RLIMIT_NPROC,
          "RLIMIT_CORE": resource.RLIMIT_CORE, "RLIMIT_AS": resource.RLIMIT_AS,
          "RLIMIT_MEMLOCK": resource.RLIMIT_MEMLOCK}


def main():
    raised = []
    before = {}
    for name, which in LIMITS.items():
        soft, hard = resource.getrlimit(which)
        before[name] = [soft, hard]
        if hard != resource.RLIM_INFINITY:
            try:
                resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                raised.append(name)
            except (ValueError, OSError):
                pass
    after = {name: list(resource.getrlimit(which)) for name, which in LIMITS.items()}
    return {"raised_hard_limit": raised, "before": before, "after": after,
            "infinity": resource.RLIM_INFINITY}
