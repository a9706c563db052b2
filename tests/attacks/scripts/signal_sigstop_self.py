"""Attack: freeze itself with SIGSTOP, hoping a stopped process escapes the wall-clock kill or
hangs the supervisor waiting for it. The run must end as a timeout within the limit, with the
output printed before the stop kept."""
import os
import signal
import sys


def main():
    print("about to SIGSTOP myself")
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGSTOP)
    return {"resumed": True}
