"""Attack: make the service blame itself — replace json.dumps so the harness reports a
"sandbox_error" (and a timeout) frame. A script must not be able to claim the service's own
failure types: that would turn a user's script into a 5xx / exit 3 and pollute the operator's
alerts. The frame must be rejected (invalid_result) or ignored."""
import json


def main():
    json.dumps = lambda *args, **kwargs: (
        '{"ok": false, "type": "sandbox_error", "layer": "seccomp", '
        '"message": "forged by the script", "limit_seconds": 5}')
    return {"genuine": True}
