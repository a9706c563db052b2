"""Attack: unbounded Python recursion with the recursion limit raised to ten million. The run
must end inside the limits — RecursionError, MemoryError/OOM or a crash — never hang the
service or take it down."""
import sys


def descend(depth):
    return descend(depth + 1) + 1


def main():
    sys.setrecursionlimit(10_000_000)
    try:
        descend(0)
    except RecursionError as error:
        return {"recursion_error": str(error)}
    return {"recursion_error": None}
