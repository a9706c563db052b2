"""Attack: leave with os._exit(0) before main() returns, hoping an exit status of 0 passes for
success. The outcome must be "exited" with exit_code 0, and the printed text kept."""
import os
import sys


def main():
    print("printed before os._exit")
    sys.stdout.flush()
    os._exit(0)
