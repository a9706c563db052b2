"""Attack: return a 24 MiB string, beyond the 16 MiB result limit. The answer must be
result_too_large, not a 24 MiB body or an exhausted service."""


def main():
    return "x" * (24 << 20)
