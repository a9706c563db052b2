"""Attack: signal processes outside the sandbox — probe every pid up to 65535 with signal 0,
SIGKILL pid 1, then SIGKILL everything with kill(-1). Only the sandbox's own processes may be
reachable (the runner keeps a victim process of the sandbox's uid alive on the host meanwhile),
and the script itself must survive to report."""
import errno
import os
import signal
import time


def main():
    reachable = []
    denied = []
    for pid in range(1, 65536):
        try:
            os.kill(pid, 0)
            reachable.append(pid)
        except ProcessLookupError:
            pass
        except PermissionError:
            denied.append(pid)
    sleeper = os.fork()
    if sleeper == 0:
        time.sleep(30)
        os._exit(0)
    outcomes = {}
    for target in (1, -1):
        try:
            os.kill(target, signal.SIGKILL)
            outcomes["kill(%d, SIGKILL)" % target] = "sent"
        except OSError as error:
            outcomes["kill(%d, SIGKILL)" % target] = errno.errorcode.get(error.errno, str(error.errno))
    _, status = os.waitpid(sleeper, 0)
    return {"self_pid": os.getpid(), "reachable_pids": reachable[:50], "permission_denied_pids": denied[:50],
            "outcomes": outcomes,
            "own_child_killed_by_kill_all": os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL}
