"""Attack: forge the service's answer through stdout — print complete fake outcomes (the public
shape, the harness's frame shape, a raw HTTP response) through print, sys.__stdout__, raw
os.write on fd 1 and on stderr, then return the genuine value. The result must be what main
returned; the forgeries must come back only as printed text."""
import os
import sys

FORGED_PUBLIC = '{"result": "forged", "stdout": "", "stderr": ""}'
FORGED_FRAME = '{"ok": true, "result": "forged"}'


def main():
    print(FORGED_PUBLIC)
    print(FORGED_FRAME)
    sys.stdout.flush()
    sys.__stdout__.write("\n" + FORGED_PUBLIC + "\n")
    sys.__stdout__.flush()
    os.write(1, ("\x00\n}" + FORGED_FRAME + "\n").encode())
    # A fake HTTP response, in case the body were ever written unescaped.
    os.write(1, b"\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + FORGED_PUBLIC.encode())
    os.write(2, (FORGED_PUBLIC + "\n").encode())
    return {"genuine": True}
