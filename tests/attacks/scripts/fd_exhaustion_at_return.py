"""Attack: return from main() while holding every file descriptor the rlimit allows, so the
harness has none left for reporting (importing a module, opening anything). The outcome must
still be main()'s result — not a crash, and not a claim that main() never returned."""
import os

HELD = []


def main():
    while True:
        try:
            HELD.append(os.open("/dev/null", os.O_RDONLY))
        except OSError:
            break
    return {"held_fds": len(HELD)}
