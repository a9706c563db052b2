"""Attack: corrupt the harness from inside its own process — replace json.dumps so the frame the
harness writes after main() returns is truncated JSON. The C++ side must reject it with a clear
error (or the harness must not be fooled); nothing may crash."""
import json


def main():
    json.dumps = lambda *args, **kwargs: '{"ok": true, "result": ["forged"'
    return {"genuine": True}
