"""The incident metrics against hand-computed values (B³, MUC, CEAF-e, CoNLL)."""

from __future__ import annotations

import pytest

from evals.incident_scoring import b_cubed, ceaf_e, conll, muc

GOLD = [frozenset("abc"), frozenset("de")]


@pytest.mark.parametrize(
    ("predicted", "b3", "muc_f1", "ceaf"),
    [
        (GOLD, 1.0, 1.0, 1.0),
        # apart: B3 P 1, R (1/3*3 + 1/2*2)/5 = 0.4; CEAF-e (0.5 + 0.667) over 5 and 2
        ([frozenset(x) for x in "abcde"], 0.5714, 0.0, 0.3333),
        # together: B3 P (3/5*3 + 2/5*2)/5 = 0.52, R 1; CEAF-e 0.75 over 1 and 2
        ([frozenset("abcde")], 0.6842, 0.8571, 0.5),
    ],
)  # fmt: skip
def test_metrics_match_hand_computed_values(
    predicted: list[frozenset[str]], b3: float, muc_f1: float, ceaf: float
) -> None:
    assert b_cubed(GOLD, predicted).f1 == pytest.approx(b3, abs=1e-3)
    assert muc(GOLD, predicted).f1 == pytest.approx(muc_f1, abs=1e-3)
    assert ceaf_e(GOLD, predicted).f1 == pytest.approx(ceaf, abs=1e-3)
    assert conll(GOLD, predicted)["conll_f1"] == pytest.approx((b3 + muc_f1 + ceaf) / 3, abs=2e-3)
