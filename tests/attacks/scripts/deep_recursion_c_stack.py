"""Attack: exhaust the C stack — repr() of a list nested a million deep with the recursion limit
lifted, which recurses in C and overflows the thread's stack. The sandbox must report the crash
(or the RecursionError) cleanly."""
import sys


def main():
    sys.setrecursionlimit(100_000_000)
    value = []
    for _ in range(1_000_000):
        value = [value]
    text = repr(value)
    return {"length": len(text)}
