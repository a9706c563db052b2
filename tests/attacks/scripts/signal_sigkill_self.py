"""Attack: SIGKILL itself mid-run. The outcome must say the script died by signal 9; if the
signal were ignored (as it is for a pid namespace's init) main would return and claim success."""
import os
import signal
import sys
import time


def main():
    print("about to SIGKILL myself")
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(2)
    return {"survived_sigkill": True}
