# Errors the script itself causes before or while main() runs: missing_main, main_not_callable,
# syntax_error, runtime_error, exited. Each through `stacksync run`, exit code 1.
import re

import pytest

from cli_support import EXIT_SCRIPT_ERROR


def assert_error(run, error_type):
    assert run.returncode == EXIT_SCRIPT_ERROR, run.describe()
    assert run.type == error_type, run.describe()


def traceback_files(traceback_text):
    return re.findall(r'^  File "([^"]*)"', traceback_text, flags=re.MULTILINE)


# --- missing_main / main_not_callable -------------------------------------------------------

def test_script_without_main_is_missing_main(run_script):
    run = run_script("""
        print("module ran")
        def helper():
            return 1
    """)
    assert_error(run, "missing_main")
    assert "main" in run.outcome["error"]
    # Module-level code ran, and its output comes back with the error.
    assert run.outcome["stdout"] == "module ran\n"


def test_empty_script_is_missing_main(run_script):
    assert_error(run_script(""), "missing_main")


@pytest.mark.parametrize("definition, type_word", [
    ("main = 5", "int"),
    ("main = 'main'", "str"),
    ("main = [1, 2]", "list"),
    ("main = None", None),
])
def test_main_that_is_not_callable(run_script, definition, type_word):
    run = run_script(definition + "\n")
    if type_word is None:
        # `main = None` is indistinguishable from no main for the harness: either answer is
        # precise enough, a crash or a success is not.
        assert run.type in ("missing_main", "main_not_callable"), run.describe()
        return
    assert_error(run, "main_not_callable")
    assert type_word in run.outcome["error"]


def test_callable_object_is_accepted_as_main(run_script):
    run = run_script("""
        class Entry:
            def __call__(self):
                return "called"
        main = Entry()
    """)
    assert run.ok, run.describe()
    assert run.outcome["result"] == "called"


# --- syntax_error -------------------------------------------------------------------------

SYNTAX_CASES = {
    # source -> (line, column) as CPython 3.11 reports them, 1-based
    "unclosed_paren": ("def main():\n    return (1 +\n\n", None),
    "bad_def": ("x = 1\n\ndef main(:\n    return 1\n", (3, 10)),
    "bad_assignment": ("def main():\n    a = 1\n    1 = a\n    return a\n", (3, 5)),
    "indentation": ("def main():\nreturn 1\n", (2, 1)),
}


@pytest.mark.parametrize("case", sorted(SYNTAX_CASES))
def test_syntax_error_reports_the_position_python_reports(run_script, case):
    source, literal_position = SYNTAX_CASES[case]
    # The sandbox runs the same /usr/bin/python3 as this test: compile here for the reference.
    with pytest.raises(SyntaxError) as expected:
        compile(source, "<script>", "exec")
    run = run_script(source)
    assert_error(run, "syntax_error")
    assert run.outcome["line"] == expected.value.lineno
    assert run.outcome["column"] == expected.value.offset
    if literal_position is not None:
        assert (run.outcome["line"], run.outcome["column"]) == literal_position
    assert isinstance(run.outcome["line"], int) and isinstance(run.outcome["column"], int)
    assert expected.value.msg in run.outcome["error"]


def test_syntax_error_reports_nothing_printed(run_script):
    # The script never ran: nothing of it may appear on stdout.
    run = run_script("print('never')\ndef main(:\n    pass\n")
    assert_error(run, "syntax_error")
    assert run.outcome["line"] == 2
    assert run.outcome["stdout"] == ""


def test_nul_byte_in_source_is_a_syntax_error_not_a_crash(run_script):
    run = run_script(b"def main():\n    return 1\x00\n")
    assert_error(run, "syntax_error")


# --- runtime_error ------------------------------------------------------------------------

def test_exception_in_main_reports_type_message_and_user_frames(run_script):
    run = run_script("""
        import sys

        def lookup(table):
            return table["missing"]

        def main():
            print("before the error")
            print("to stderr", file=sys.stderr)
            return lookup({})
    """)
    assert_error(run, "runtime_error")
    assert run.outcome["exception"] == "KeyError"
    assert "KeyError" in run.outcome["error"] and "'missing'" in run.outcome["error"]
    traceback_text = run.outcome["traceback"]
    assert traceback_text.startswith("Traceback (most recent call last):\n")
    # Only the user's frames: the harness (run from "<string>") and the stdlib stay hidden.
    assert traceback_files(traceback_text) == ["<script>", "<script>"]
    assert "line 10, in main" in traceback_text
    assert "line 5, in lookup" in traceback_text
    assert 'return table["missing"]' in traceback_text  # source lines are shown
    assert traceback_text.rstrip().endswith("KeyError: 'missing'")
    assert "harness" not in traceback_text and "<string>" not in traceback_text
    # Output printed before the exception is returned with the error.
    assert run.outcome["stdout"] == "before the error\n"
    assert run.outcome["stderr"] == "to stderr\n"


def test_exception_inside_a_library_shows_only_user_frames(run_script):
    run = run_script("""
        def main():
            import json
            return json.loads("{not json")
    """)
    assert_error(run, "runtime_error")
    assert run.outcome["exception"] == "json.decoder.JSONDecodeError"
    assert traceback_files(run.outcome["traceback"]) == ["<script>"]
    assert "/usr/lib/python3" not in run.outcome["traceback"]


def test_exception_at_module_level_is_a_runtime_error(run_script):
    run = run_script("""
        print("started")
        value = 1 / 0
        def main():
            return value
    """)
    assert_error(run, "runtime_error")
    assert run.outcome["exception"] == "ZeroDivisionError"
    assert traceback_files(run.outcome["traceback"]) == ["<script>"]
    assert "in <module>" in run.outcome["traceback"]
    assert run.outcome["stdout"] == "started\n"


def test_exception_class_defined_by_the_script(run_script):
    run = run_script("""
        class QuotaExceeded(Exception):
            pass
        def main():
            raise QuotaExceeded("too many rows")
    """)
    assert_error(run, "runtime_error")
    assert run.outcome["exception"].endswith("QuotaExceeded")
    assert "too many rows" in run.outcome["error"]


def test_recursion_error_is_a_runtime_error(run_script):
    run = run_script("""
        def down(n):
            return down(n + 1)
        def main():
            return down(0)
    """)
    assert_error(run, "runtime_error")
    assert run.outcome["exception"] == "RecursionError"
    assert set(traceback_files(run.outcome["traceback"])) == {"<script>"}


def test_keyboard_interrupt_raised_by_the_script_is_a_runtime_error(run_script):
    run = run_script("""
        def main():
            raise KeyboardInterrupt("ctrl-c")
    """)
    assert_error(run, "runtime_error")
    assert run.outcome["exception"] == "KeyboardInterrupt"


# --- exited -------------------------------------------------------------------------------

def test_sys_exit_reports_the_exit_code_and_keeps_output(run_script):
    run = run_script("""
        import sys
        def main():
            print("leaving")
            sys.exit(3)
    """)
    assert_error(run, "exited")
    assert run.outcome["exit_code"] == 3
    assert run.outcome["stdout"] == "leaving\n"
    assert "signal" not in run.outcome


def test_sys_exit_at_module_level(run_script):
    run = run_script("import sys\nsys.exit(4)\ndef main():\n    return 1\n")
    assert_error(run, "exited")
    assert run.outcome["exit_code"] == 4


def test_sys_exit_without_code_is_exit_code_zero_but_still_an_error(run_script):
    # main() did not return: there is no result, whatever the exit code.
    run = run_script("import sys\ndef main():\n    sys.exit()\n")
    assert_error(run, "exited")
    assert run.outcome["exit_code"] == 0


def test_os_exit_reports_the_exit_code(run_script):
    run = run_script("""
        import os, sys
        def main():
            sys.stdout.write("flushed before exit\\n")
            sys.stdout.flush()
            os._exit(7)
    """)
    assert_error(run, "exited")
    assert run.outcome["exit_code"] == 7
    assert run.outcome["stdout"] == "flushed before exit\n"


def test_os_exit_zero_is_still_exited(run_script):
    run = run_script("import os\ndef main():\n    os._exit(0)\n")
    assert_error(run, "exited")
    assert run.outcome["exit_code"] == 0


@pytest.mark.parametrize("signal_name", ["SIGSEGV", "SIGKILL", "SIGABRT"])
def test_killed_by_a_signal_names_the_signal(run_script, signal_name):
    run = run_script("""
        import os, signal, sys
        def main():
            print("about to die", flush=True)
            os.kill(os.getpid(), signal.%s)
    """ % signal_name)
    assert_error(run, "exited")
    assert run.outcome["signal"] == signal_name
    assert signal_name in run.outcome["error"]
    assert "exit_code" not in run.outcome
    assert run.outcome["stdout"] == "about to die\n"


def test_real_segfault_is_reported_as_sigsegv(run_script):
    run = run_script("""
        import ctypes
        def main():
            return ctypes.string_at(0)
    """)
    assert_error(run, "exited")
    assert run.outcome["signal"] == "SIGSEGV"


# --- invalid_result -----------------------------------------------------------------------

def test_garbage_on_the_result_channel_is_invalid_result(run_script):
    # The channel is a pipe the script is not told about but can find; what arrives on it is
    # validated, so garbage is reported, never passed on as a result.
    run = run_script("""
        import fcntl, os, stat
        def main():
            written = []
            for fd in range(3, 256):
                try:
                    is_pipe = stat.S_ISFIFO(os.fstat(fd).st_mode)
                    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
                except OSError:
                    continue
                if is_pipe and flags & os.O_ACCMODE == os.O_WRONLY:
                    os.write(fd, b"this is not a result frame")
                    written.append(fd)
            print("wrote to", len(written), flush=True)
            os._exit(0)
    """)
    assert run.outcome["stdout"] == "wrote to 1\n", run.describe()
    assert_error(run, "invalid_result")
    assert "result" not in run.outcome


# --- the harness stays in charge whatever the exception does ----------------------------------

def test_exception_whose_str_fails_is_still_a_runtime_error(run_script):
    run = run_script("""
        class Unprintable(Exception):
            def __str__(self):
                raise RuntimeError("no text for you")
        def main():
            raise Unprintable()
    """)
    assert "<string>" not in run.outcome["stderr"], run.describe()
    assert_error(run, "runtime_error")
    assert run.outcome["exception"].endswith("Unprintable")


def test_exception_with_a_huge_message_is_a_runtime_error(run_script):
    run = run_script("""
        def main():
            raise ValueError("x" * (9 << 20))
    """)
    assert_error(run, "runtime_error")
    assert run.outcome["exception"] == "ValueError"
    assert len(run.raw) < 1 << 20  # message and traceback are bounded in the outcome


def test_exception_with_a_large_message_is_bounded(run_script):
    run = run_script("""
        def main():
            raise ValueError("y" * (2 << 20))
    """)
    assert_error(run, "runtime_error")
    assert run.outcome["error"].startswith("ValueError: yyyy")
    assert len(run.raw) < 1 << 20


@pytest.mark.parametrize("ending", ["os._exit(7)", "os.kill(os.getpid(), signal.SIGSEGV)",
                                    "os.kill(os.getpid(), signal.SIGKILL)"])
def test_output_printed_without_flush_survives_an_abrupt_end(run_script, ending):
    # Nothing flushes python's buffers on these paths: the output must not sit in one.
    run = run_script("""
        import os, signal, sys
        def main():
            print("last words")
            sys.stderr.write("on stderr\\n")
            %s
    """ % ending)
    assert_error(run, "exited")
    assert run.outcome["stdout"] == "last words\n"
    assert run.outcome["stderr"] == "on stderr\n"
