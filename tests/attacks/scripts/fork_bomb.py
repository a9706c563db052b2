"""Attack: a fork bomb — every process forks as fast as it can for 3 s, then sleeps forever
holding stdout open. The pids limit must stop the growth, and the sandbox must still end within
its wall-clock limit with nothing left behind."""
import os
import time


def bomb(deadline):
    """Never returns: a child must not go back into the harness."""
    while time.monotonic() < deadline:
        try:
            if os.fork() == 0:
                continue
        except OSError:
            time.sleep(0.01)
    while True:
        time.sleep(60)


def main():
    deadline = time.monotonic() + 3.0
    forked = 0
    failures = 0
    last_error = None
    while time.monotonic() < deadline:
        try:
            pid = os.fork()
        except OSError as error:
            failures += 1
            last_error = "%s: %s" % (type(error).__name__, error.strerror)
            time.sleep(0.01)
            continue
        if pid == 0:
            bomb(deadline)
        forked += 1
    return {"forked_by_main": forked, "fork_failures": failures, "last_error": last_error}
