"""The statistics of agreement on hand-made tables: defined where kappa is, empty where not."""

from __future__ import annotations

import pytest

from workbench.services.reviews.agreement import cohens_kappa, scores


def test_perfect_and_chance_and_opposite_agreement() -> None:
    assert cohens_kappa(3, 0, 0, 2)[0] == pytest.approx(1.0)
    # Never agreeing: observed 0; chance (3*2 + 2*3)/25 = 12/25; kappa = -(12/25)/(13/25).
    assert cohens_kappa(0, 3, 2, 0)[0] == pytest.approx(-12 / 13)
    # Judge and person independent (each half pass): chance agreement 1/2, observed 1/2.
    assert cohens_kappa(1, 1, 1, 1)[0] == pytest.approx(0.0)


def test_kappa_is_empty_where_undefined() -> None:
    assert cohens_kappa(0, 0, 0, 0) == (None, None, None)  # no pairs
    assert cohens_kappa(5, 0, 0, 0) == (None, None, None)  # both said pass, always
    assert cohens_kappa(0, 0, 0, 4) == (None, None, None)  # both said fail, always


def test_precision_recall_f1_of_pass() -> None:
    found = scores(both_pass=6, judge_only=2, person_only=3, both_fail=9)
    assert (found["n"], found["agreement"]) == (20, pytest.approx(15 / 20))
    assert found["precision"] == pytest.approx(6 / 8) and found["recall"] == pytest.approx(6 / 9)
    assert found["f1"] == pytest.approx(2 * 6 / (2 * 6 + 2 + 3))
    assert scores(0, 0, 4, 1)["precision"] is None  # the judge passed nothing
