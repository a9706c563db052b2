"""Attack: leave a stopped child behind — it stops itself with SIGSTOP (a stopped process ignores
everything but SIGKILL and SIGCONT), and main() returns at once. The run must end promptly and
the stopped child must not survive it."""
import os
import signal
import time


def main():
    child = os.fork()
    if child == 0:
        os.kill(os.getpid(), signal.SIGSTOP)
        time.sleep(30)
        os._exit(0)
    time.sleep(0.2)
    _, status = os.waitpid(child, os.WUNTRACED)
    return {"child_stopped": os.WIFSTOPPED(status)}
