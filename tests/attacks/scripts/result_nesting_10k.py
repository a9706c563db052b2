"""Attack: return a list nested 10,000 levels deep (and a dict as deep inside it), to blow the
serializer's or the C++ parser's stack. The answer must be a clear error."""


def main():
    value = []
    innermost = value
    for _ in range(10_000):
        child = {"next": []}
        innermost.append(child)
        innermost = child["next"]
    return value
