"""Attack: break the JSON answer with output that is not UTF-8 — invalid bytes, NUL bytes, a lone
surrogate's encoding, ANSI escapes — on stdout and stderr. The answer must stay valid JSON with
the invalid bytes replaced, and the result intact."""
import os
import sys


def main():
    os.write(1, b"valid start\n\xff\xfe invalid \x80\x81 and NULs:\x00\x00 \xed\xa0\x80 \x1b[31mred\x1b[0m end\n")
    os.write(2, b"stderr: \xc3\x28 \x00 \xf0\x28\x8c\x28 done\n")
    print("unicode ok: \u00e9\u4e2d\U0001F600")
    sys.stdout.flush()
    return {"ok": True}
