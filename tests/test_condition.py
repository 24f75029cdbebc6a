"""The --condition / PRIM box text is one DuckDB expression, evaluated once per run, sandboxed:
no statement can be smuggled in, no file read, and a runaway expression is interrupted."""

import numpy as np
import pandas as pd
import pytest

from ixsim.analysis import query
from ixsim.analysis.query import QueryError, condition_mask

RUNS = pd.DataFrame({"successor_training_year": [2028.0, np.nan, 2031.0], "x": [1, 2, 3]})


def test_a_condition_gives_one_answer_per_run_and_null_is_false():
    assert condition_mask(RUNS, "successor_training_year < 2029").tolist() == [True, False, False]


@pytest.mark.parametrize("text", [
    "true) AS hit FROM runs UNION ALL SELECT (true",  # breaks out of the expression
    "x > 1; DROP TABLE runs",
    "(SELECT count(*) FROM read_csv('/etc/passwd')) > 0",
    "x",  # not true/false
    "nope < 1",
])
def test_what_is_not_one_safe_boolean_expression_is_refused(text):
    with pytest.raises(QueryError):
        condition_mask(RUNS, text)


def test_a_runaway_condition_is_interrupted(monkeypatch):
    monkeypatch.setattr(query, "CONDITION_SECONDS", 0.2)
    big = pd.DataFrame({"x": np.arange(3000)})
    with pytest.raises(QueryError, match="longer than"):
        condition_mask(big, "(SELECT count(*) FROM runs a, runs b, runs c WHERE a.x < b.x + c.x) > 0")
