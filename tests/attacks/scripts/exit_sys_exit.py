"""Attack: leave with sys.exit(3) from main(). The outcome must be "exited" with exit_code 3."""
import sys


def main():
    print("printed before sys.exit")
    sys.exit(3)
