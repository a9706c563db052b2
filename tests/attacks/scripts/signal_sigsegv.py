"""Attack: crash the interpreter with a segmentation fault (read address 8 through ctypes). The
outcome must be "exited" with signal 11, and the service unharmed."""
import ctypes
import sys


def main():
    print("about to segfault")
    sys.stdout.flush()
    ctypes.c_char.from_address(8).value  # string_at(0) would not fault: NULL means "allocate"
    return {"survived_sigsegv": True}
