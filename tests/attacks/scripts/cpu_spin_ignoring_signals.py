"""Attack: spin forever with every catchable termination signal ignored (SIGTERM, SIGINT, SIGHUP,
SIGALRM, SIGXCPU, SIGVTALRM, SIGPROF, SIGUSR1/2), hoping the sandbox only asks politely."""
import signal


def main():
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGALRM", "SIGXCPU", "SIGVTALRM", "SIGPROF", "SIGUSR1", "SIGUSR2", "SIGQUIT"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    spins = 0
    while True:
        spins += 1
