# main()'s return value: what serializes (json types, numpy, converted keys), what does not
# (not_serializable with path and type), and the size and depth limits.
import json
import math
import re

import numpy
import pytest

from cli_support import EXIT_SCRIPT_ERROR


def assert_not_serializable(run, path_pattern, value_type):
    assert run.returncode == EXIT_SCRIPT_ERROR, run.describe()
    assert run.type == "not_serializable", run.describe()
    assert re.fullmatch(path_pattern, run.outcome["path"]), run.describe()
    assert run.outcome["value_type"] == value_type, run.describe()
    # The human message names both, so a user reading only "error" knows what to fix.
    assert run.outcome["path"] in run.outcome["error"]
    assert value_type in run.outcome["error"]


def json_null_for_non_finite(value):
    if isinstance(value, list):
        return [json_null_for_non_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --- plain JSON values --------------------------------------------------------------------

def test_plain_json_types_round_trip_exactly(run_script):
    run = run_script("""
        def main():
            return {"int": -7, "big": 2 ** 100, "float": 0.1, "exp": 1e300, "neg_zero": -0.0,
                    "text": "naïve ✓ 🎉 \\"quoted\\" \\\\ \\n", "empty": "", "true": True,
                    "false": False, "none": None, "list": [1, [2, [3]]], "tuple": (1, 2),
                    "nested": {"a": {"b": []}}}
    """)
    assert run.ok, run.describe()
    assert run.outcome["result"] == {
        "int": -7, "big": 2 ** 100, "float": 0.1, "exp": 1e300, "neg_zero": -0.0,
        "text": 'naïve ✓ 🎉 "quoted" \\ \n', "empty": "", "true": True, "false": False,
        "none": None, "list": [1, [2, [3]]], "tuple": [1, 2], "nested": {"a": {"b": []}}}
    # Integers are not squeezed through a double: 2**100 keeps every digit.
    assert b"1267650600228229401496703205376" in run.raw
    assert math.copysign(1.0, run.outcome["result"]["neg_zero"]) == -1.0


@pytest.mark.parametrize("literal, expected", [
    ("None", None), ("0", 0), ("'text'", "text"), ("[]", []), ("{}", {}), ("3.5", 3.5),
    ("True", True),
])
def test_scalar_results(run_script, literal, expected):
    run = run_script("def main():\n    return %s\n" % literal)
    assert run.ok, run.describe()
    assert run.outcome["result"] == expected
    assert type(run.outcome["result"]) is type(expected)


def test_nan_and_infinities_become_null(run_script):
    run = run_script("""
        def main():
            return {"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"),
                    "in_list": [1.0, float("nan")]}
    """)
    assert run.ok, run.describe()
    assert run.outcome["result"] == {"nan": None, "inf": None, "ninf": None, "in_list": [1.0, None]}


def test_dict_keys_are_converted_like_json_dumps(run_script):
    source = """
        def main():
            return {7: "int", 2.5: "float", True: "true", False: "false", None: "none",
                    "s": "str", float("inf"): "inf", -3: "negative"}
    """
    run = run_script(source)
    assert run.ok, run.describe()
    namespace = {}
    exec(source.replace("\n        ", "\n"), namespace)
    reference = json.loads(json.dumps(namespace["main"]()))
    assert run.outcome["result"] == reference
    assert list(run.outcome["result"]) == list(reference)  # order kept too
    assert list(reference) == ["7", "2.5", "true", "false", "null", "s", "Infinity", "-3"]


def test_numpy_scalar_keys_are_converted(run_script):
    run = run_script("""
        import numpy as np
        def main():
            return {np.int64(3): "a", np.float64(1.5): "b", np.bool_(True): "c"}
    """)
    assert run.ok, run.describe()
    assert run.outcome["result"] == {"3": "a", "1.5": "b", "true": "c"}


# --- numpy --------------------------------------------------------------------------------

NUMPY_VALUES = {
    "int64": "np.int64(-5)",
    "uint8": "np.uint8(200)",
    "float32": "np.float32(0.1)",
    "float64": "np.float64(2.5)",
    "bool": "np.bool_(False)",
    "nan_scalar": "np.float64('nan')",
    "inf_scalar": "np.float32('inf')",
    "str": "np.str_('numpy text')",
    "range": "np.arange(4)",
    "zero_dim": "np.array(9)",
    "matrix": "np.array([[1.5, np.nan], [np.inf, -np.inf]])",
    "bools": "np.array([True, False])",
    "int8s": "np.array([-1, 2], dtype=np.int8)",
    "empty": "np.zeros((0, 3))",
}


def test_numpy_scalars_and_arrays_become_numbers_and_lists(run_script):
    source = "import numpy as np\ndef main():\n    return {%s}\n" % ", ".join(
        "%r: %s" % (key, expression) for key, expression in NUMPY_VALUES.items())
    run = run_script(source)
    assert run.ok, run.describe()
    result = run.outcome["result"]
    # Reference: the same numpy, converted with .tolist() and NaN/inf -> null.
    namespace = {"np": numpy}
    for key, expression in NUMPY_VALUES.items():
        expected = json_null_for_non_finite(eval(expression, namespace).tolist())
        assert result[key] == expected, key
        assert type(result[key]) is type(expected), key
    assert result["float32"] == 0.10000000149011612
    assert result["matrix"] == [[1.5, None], [None, None]]
    assert result["empty"] == []


def test_pandas_to_dict_output_serializes(run_script):
    run = run_script("""
        import pandas as pd
        def main():
            frame = pd.DataFrame({"x": [1, 2], "y": [0.5, None]})
            return {"records": frame.to_dict(orient="records"), "sum": frame["x"].sum()}
    """)
    assert run.ok, run.describe()
    assert run.outcome["result"] == {"records": [{"x": 1, "y": 0.5}, {"x": 2, "y": None}], "sum": 3}


# --- not_serializable ---------------------------------------------------------------------

# Paths quote keys the way Python writes them (result['data'] or result["data"]).
QUOTE = r"""(['"])"""


def test_set_deep_inside_the_result_names_the_path(run_script):
    run = run_script("""
        def main():
            return {"data": [1, 2, {3, 4}]}
    """)
    assert_not_serializable(run, r"result\[%sdata\1\]\[2\]" % QUOTE, "set")
    assert "list" in run.outcome["error"]  # the hint: convert it to a list


def test_bytes_are_not_serializable(run_script):
    run = run_script("def main():\n    return [\"ok\", b\"raw\"]\n")
    assert_not_serializable(run, r"result\[1\]", "bytes")


def test_dataframe_is_not_serializable_with_a_hint(run_script):
    run = run_script("""
        import pandas as pd
        def main():
            return {"frame": pd.DataFrame({"a": [1, 2]})}
    """)
    assert_not_serializable(run, r"result\[%sframe\1\]" % QUOTE, "pandas.core.frame.DataFrame")
    assert "to_dict" in run.outcome["error"]


def test_series_is_not_serializable_with_a_hint(run_script):
    run = run_script("""
        import pandas as pd
        def main():
            return pd.Series([1, 2])
    """)
    assert_not_serializable(run, r"result", "pandas.core.series.Series")
    assert "to_dict" in run.outcome["error"]


def test_arbitrary_object_is_not_serializable(run_script):
    run = run_script("""
        class Point:
            pass
        def main():
            return {"points": [Point()]}
    """)
    assert run.type == "not_serializable", run.describe()
    assert re.fullmatch(r"result\[%spoints\1\]\[0\]" % QUOTE, run.outcome["path"])
    assert run.outcome["value_type"].endswith("Point")


@pytest.mark.parametrize("expression, value_type", [
    ("1j", "complex"),
    ("frozenset()", "frozenset"),
    ("object()", "object"),
    ("len", "builtin_function_or_method"),
])
def test_other_non_json_values(run_script, expression, value_type):
    run = run_script("def main():\n    return %s\n" % expression)
    assert_not_serializable(run, r"result", value_type)


def test_tuple_key_is_not_serializable(run_script):
    run = run_script("def main():\n    return {(1, 2): 'pair'}\n")
    assert run.type == "not_serializable", run.describe()
    assert run.outcome["value_type"] == "tuple"


def test_lone_surrogate_string_is_not_serializable(run_script):
    run = run_script("def main():\n    return 'bad \\ud800 text'\n")
    assert run.type == "not_serializable", run.describe()


def test_not_serializable_keeps_the_output(run_script):
    run = run_script("def main():\n    print('computed')\n    return {1, 2}\n")
    assert run.type == "not_serializable", run.describe()
    assert run.outcome["stdout"] == "computed\n"


# --- depth and size limits ----------------------------------------------------------------

def nested_list_script(levels):
    return "def main():\n    value = 1\n    for _ in range(%d):\n        value = [value]\n    return value\n" % levels


def test_result_nested_100_levels_is_fine(run_script):
    run = run_script(nested_list_script(100))
    assert run.ok, run.describe()
    value, depth = run.outcome["result"], 0
    while isinstance(value, list):
        value, depth = value[0], depth + 1
    assert (depth, value) == (100, 1)


def test_dicts_nested_100_levels_are_fine(run_script):
    run = run_script("""
        def main():
            value = {}
            for level in range(99):
                value = {"k": value}
            return value
    """)
    assert run.ok, run.describe()


@pytest.mark.parametrize("levels", [101, 1000, 100000])
def test_result_nested_too_deep_is_a_clear_error(run_script, levels):
    run = run_script(nested_list_script(levels))
    assert run.returncode == EXIT_SCRIPT_ERROR, run.describe()
    assert run.type == "not_serializable", run.describe()
    assert "100" in run.outcome["error"] and "deep" in run.outcome["error"]
    assert len(run.raw) < 64 * 1024  # the message stays readable, not a megabyte of [0][0]...


def test_self_referencing_result_is_a_clear_error(run_script):
    run = run_script("def main():\n    loop = []\n    loop.append(loop)\n    return loop\n")
    assert run.type == "not_serializable", run.describe()


def test_result_over_16_mib_is_result_too_large(run_script):
    run = run_script("""
        def main():
            print("built it")
            return "x" * (17 << 20)
    """)
    assert run.returncode == EXIT_SCRIPT_ERROR, run.describe()
    assert run.type == "result_too_large", run.describe()
    assert run.outcome["limit_bytes"] == 16 << 20
    assert "16 MiB" in run.outcome["error"]
    assert run.outcome["stdout"] == "built it\n"
    assert len(run.raw) < 64 * 1024


def test_many_small_values_over_16_mib_are_result_too_large(run_script):
    run = run_script("def main():\n    return list(range(3_000_000))\n")  # ~21 MiB of JSON
    assert run.type == "result_too_large", run.describe()


def test_result_just_under_16_mib_is_returned_whole(run_script):
    run = run_script("def main():\n    return 'y' * (15 << 20)\n")
    assert run.ok, run.describe()
    assert run.outcome["result"] == "y" * (15 << 20)


def test_integer_too_long_for_python_to_print_is_not_serializable(run_script):
    # CPython refuses int -> str beyond 4300 digits; that must end as a clear error.
    run = run_script("def main():\n    return 10 ** 5000\n")
    assert run.type == "not_serializable", run.describe()
    assert "4300" in run.outcome["error"]


def test_integer_beyond_double_range_keeps_its_digits(run_script):
    run = run_script("def main():\n    return 10 ** 400\n")
    assert run.ok, run.describe()
    assert run.outcome["result"] == 10 ** 400


def test_result_whose_own_code_raises_is_reported_not_crashing_the_harness(run_script):
    run = run_script("""
        class Sneaky(dict):
            def items(self):
                raise RuntimeError("cannot list items")
        def main():
            return Sneaky(a=1)
    """)
    assert "<string>" not in run.outcome["stderr"], run.describe()
    assert run.type in ("runtime_error", "not_serializable"), run.describe()
