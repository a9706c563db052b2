# The two examples of issue 2, through `stacksync run`.
import json

from cli_support import EXAMPLES, run_file

STATISTICS_KEYS = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]


def test_dataframe_example_gives_exactly_the_documented_result_and_stdout():
    run = run_file(EXAMPLES / "dataframe.py")
    assert run.returncode == 0, run.describe()
    # Exact, key order included: the issue fixes this text.
    assert json.dumps(run.outcome["result"], separators=(",", ":")) == (
        '{"status":"success","data":{"test":{"0":1,"1":2,"2":3}}}')
    assert run.outcome["stdout"] == "DataFrame created successfully\n"
    assert run.outcome["stderr"] == ""
    assert set(run.outcome) == {"result", "stdout", "stderr"}


def test_statistics_example_returns_describe_of_five_random_rows():
    run = run_file(EXAMPLES / "statistics.py")
    assert run.returncode == 0, run.describe()
    result = run.outcome["result"]
    assert result["status"] == "success"
    statistics = result["statistics"]
    assert list(statistics) == ["A", "B"]
    for column in statistics.values():
        assert list(column) == STATISTICS_KEYS
        assert column["count"] == 5.0 and isinstance(column["count"], float)
        assert all(isinstance(column[key], float) for key in STATISTICS_KEYS)
        # np.random.rand draws from [0, 1).
        assert 0.0 <= column["min"] <= column["25%"] <= column["50%"] <= column["75%"] <= column["max"] < 1.0
        assert column["min"] <= column["mean"] <= column["max"]
        assert column["std"] >= 0.0
    # Python's own float formatting is kept: the count is printed as 5.0, not 5.
    assert run.raw.count(b'"count":5.0') == 2
    assert run.outcome["stdout"] == ""


def test_statistics_example_differs_between_runs():
    first = run_file(EXAMPLES / "statistics.py").outcome["result"]["statistics"]
    second = run_file(EXAMPLES / "statistics.py").outcome["result"]["statistics"]
    assert first["A"]["mean"] != second["A"]["mean"]
