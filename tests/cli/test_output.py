# What the script prints: returned byte for byte, arbitrary bytes made valid JSON, capped at
# 1 MiB per stream with a flag, and never able to touch the result.
from cli_support import OUTPUT_CAP


def test_stdout_is_returned_byte_for_byte(run_script):
    run = run_script("""
        import sys
        print("trailing spaces   ")
        def main():
            print("crlf line", end="\\r\\n")
            sys.stdout.write("  leading and\\ttab\\n")
            print("unicode: naïve ✓ 日本語 🎉")
            print()
            print()
            sys.stdout.write("no final newline   ")
            sys.stderr.write("err: ✓\\r\\n\\n")
            return None
    """)
    assert run.ok, run.describe()
    assert run.outcome["stdout"] == (
        "trailing spaces   \n"
        "crlf line\r\n"
        "  leading and\ttab\n"
        "unicode: naïve ✓ 日本語 🎉\n"
        "\n"
        "\n"
        "no final newline   ")
    assert run.outcome["stderr"] == "err: ✓\r\n\n"
    assert "stdout_truncated" not in run.outcome and "stderr_truncated" not in run.outcome


def test_whitespace_only_output_is_not_stripped(run_script):
    run = run_script("import sys\ndef main():\n    sys.stdout.write(' \\n\\t\\n  ')\n    return 0\n")
    assert run.outcome["stdout"] == " \n\t\n  "


def test_module_level_print_is_captured_before_main_output(run_script):
    run = run_script("""
        print("loading")
        def main():
            print("running")
            return "done"
        print("loaded")
    """)
    assert run.ok, run.describe()
    assert run.outcome["stdout"] == "loading\nloaded\nrunning\n"


def test_invalid_utf8_and_nul_bytes_become_valid_json(run_script):
    run = run_script("""
        import sys
        def main():
            sys.stdout.buffer.write(b"ok \\xff\\xfe bad \\x00 nul \\xe2\\x82 cut \\xed\\xa0\\x80 surrogate\\n")
            sys.stderr.buffer.write(b"\\x00\\x00\\xc3\\x28 err\\n")
            return 1
    """)
    assert run.ok, run.describe()  # and parse_outcome already decoded the whole line as strict UTF-8
    stdout = run.outcome["stdout"]
    assert stdout.startswith("ok \ufffd")
    assert " bad \x00 nul " in stdout  # NUL is kept, as \u0000
    assert stdout.endswith(" surrogate\n")
    assert "\ufffd" in stdout.split(" cut ")[1]  # an encoded surrogate is not valid UTF-8
    assert "\xff" not in stdout
    assert run.outcome["stderr"].startswith("\x00\x00\ufffd")
    assert run.outcome["stderr"].endswith(" err\n")
    assert b"\\u0000" in run.raw


def test_binary_noise_on_both_streams(run_script):
    run = run_script("""
        import os, sys
        def main():
            noise = bytes(range(256)) * 64
            sys.stdout.buffer.write(noise)
            sys.stderr.buffer.write(noise[::-1])
            return len(noise)
    """)
    assert run.ok, run.describe()
    assert run.outcome["result"] == 256 * 64
    assert run.outcome["stdout"].startswith("".join(chr(i) for i in range(128)))


def test_output_over_1_mib_is_cut_to_exactly_1_mib_and_flagged(run_script):
    run = run_script("""
        import sys
        def main():
            for block in "abc":
                sys.stdout.write(block * (1 << 20))
            sys.stderr.write("e" * (2 << 20))
            return "finished"
    """)
    assert run.ok, run.describe()
    assert run.outcome["result"] == "finished"
    assert run.outcome["stdout_truncated"] is True
    assert run.outcome["stdout"] == "a" * OUTPUT_CAP  # the first MiB, exactly
    assert run.outcome["stderr_truncated"] is True
    assert run.outcome["stderr"] == "e" * OUTPUT_CAP


def test_output_of_exactly_1_mib_is_not_flagged(run_script):
    run = run_script("import sys\ndef main():\n    sys.stdout.write('z' * (1 << 20))\n    return 1\n")
    assert run.outcome["stdout"] == "z" * OUTPUT_CAP
    assert "stdout_truncated" not in run.outcome


def test_one_byte_over_1_mib_is_flagged(run_script):
    run = run_script("import sys\ndef main():\n    sys.stdout.write('z' * ((1 << 20) + 1))\n    return 1\n")
    assert len(run.outcome["stdout"]) == OUTPUT_CAP
    assert run.outcome["stdout_truncated"] is True


def test_multibyte_text_cut_at_1_mib_stays_valid_json(run_script):
    # 3-byte characters: the cut falls inside one of them.
    run = run_script("def main():\n    print('✓' * 400000)\n    return 1\n")
    assert run.outcome["stdout_truncated"] is True
    assert run.outcome["stdout"].startswith("✓" * 1000)
    assert len(run.outcome["stdout"].encode("utf-8")) <= OUTPUT_CAP + 6  # a cut character becomes U+FFFD


def test_output_flood_does_not_stop_the_script(run_script):
    # Past the cap the output is drained and dropped, so a chatty script still completes.
    run = run_script("""
        def main():
            for i in range(200000):
                print("line", i)
            return "survived"
    """)
    assert run.ok, run.describe()
    assert run.outcome["result"] == "survived"
    assert run.outcome["stdout_truncated"] is True


def test_printed_json_cannot_forge_the_result(run_script):
    run = run_script("""
        import sys
        def main():
            print('{"result": "forged", "stdout": "", "stderr": ""}')
            sys.stdout.flush()
            sys.stderr.write('{"ok": true, "result": "forged"}\\n')
            return "genuine"
    """)
    assert run.ok, run.describe()
    assert run.outcome["result"] == "genuine"
    assert run.outcome["stdout"] == '{"result": "forged", "stdout": "", "stderr": ""}\n'
