"""The open behaviours (rnnconf/spec/unspecified.py): each choice the oracle can make changes
exactly what the documentation leaves open and nothing else, and a case depends on a behaviour
exactly when its input reaches the open part."""

import numpy as np
import pytest

from rnnconf.spec import catalog, oracle, unspecified
from rnnconf.spec.catalog import Shape

B3 = Shape(batch=3, timesteps=5, features=2, units=3)


def _lstm(mask, **kw):
    spec = oracle.CellSpec("lstm", 3)
    rng = np.random.default_rng(0)
    weights = oracle.random_weights([spec], 2, rng)
    x = rng.normal(size=(3, 5, 2))
    h0, c0 = rng.uniform(-1, 1, (3, 3)), rng.uniform(-1, 1, (3, 3))
    return oracle.rnn([spec], weights, x, initial_state=[h0, c0], mask=mask, **kw), h0


@pytest.mark.parametrize("go_backwards", [False, True])
def test_the_leading_output_choice_changes_only_the_leading_masked_steps(go_backwards):
    mask = np.array([[False, False, True, False, True],   # two leading masked steps (forward)
                     [True, False, True, True, False],    # none forward, one backward
                     [False] * 5])                        # fully masked
    zeros, h0 = _lstm(mask, go_backwards=go_backwards)
    first, _ = _lstm(mask, go_backwards=go_backwards, leading_output="first_state")
    leading = unspecified.leading_masked_steps(mask, go_backwards)
    in_processing_order = leading[:, ::-1] if go_backwards else leading
    for b in range(3):
        for t in range(5):
            expected_zero = np.zeros(3) if in_processing_order[b, t] else first.sequence[b, t]
            np.testing.assert_array_equal(zeros.sequence[b, t], expected_zero)
            if in_processing_order[b, t]:
                np.testing.assert_array_equal(first.sequence[b, t], h0[b])
    np.testing.assert_array_equal(zeros.last_output[2], np.zeros(3))   # no unmasked step: open
    np.testing.assert_array_equal(first.last_output[2], h0[2])
    np.testing.assert_array_equal(zeros.last_output[:2], first.last_output[:2])  # specified
    for a, b in zip(zeros.states[0], first.states[0]):  # states are always specified
        np.testing.assert_array_equal(a, b)


def test_leading_masked_steps_in_both_directions():
    mask = np.array([[False, True, False], [True, True, False], [False, False, False]])
    np.testing.assert_array_equal(unspecified.leading_masked_steps(mask),
                                  [[True, False, False], [False, False, False], [True, True, True]])
    np.testing.assert_array_equal(unspecified.leading_masked_steps(mask, go_backwards=True),
                                  [[False, False, True], [False, False, True], [True, True, True]])


def test_the_odd_padding_choice_moves_the_extra_element():
    """1-D, length 4, kernel 3, stride 2: 'same' gives 2 outputs from a total padding of 1."""
    x = np.arange(1.0, 5.0).reshape(1, 4, 1)
    w = np.ones((3, 1, 1))
    after = oracle._conv(x, w, (2,), (1,), "same")
    before = oracle._conv(x, w, (2,), (1,), "same", odd_padding="before")
    np.testing.assert_array_equal(after[0, :, 0], [1 + 2 + 3, 3 + 4 + 0])   # pads (0, 1)
    np.testing.assert_array_equal(before[0, :, 0], [0 + 1 + 2, 2 + 3 + 4])  # pads (1, 0)
    even = oracle._conv(x, w, (1,), (1,), "same", odd_padding="before")     # total 2: no choice
    np.testing.assert_array_equal(even, oracle._conv(x, w, (1,), (1,), "same"))


def test_which_cases_depend_on_which_behaviour():
    by_id = {e.id: e for e in catalog.ENTRIES}
    right_padded = np.array([[True, True, False]] * 3)
    left_masked = np.array([[False, True, True]] * 3)
    keys = lambda e, **kw: [b.key for b in unspecified.applicable(by_id[e], B3, **kw)]  # noqa: E731
    assert keys("LSTM", mask=right_padded) == []
    assert keys("LSTM", mask=right_padded, go_backwards=True) == ["leading-masked-output"]
    assert keys("LSTM", mask=left_masked) == ["leading-masked-output"]
    assert keys("LSTM") == []
    assert keys("Bi_LSTM_concat", mask=right_padded) == ["leading-masked-output"]  # its backward half
    assert keys("ConvLSTM3D") == ["odd-same-padding"]    # spatial 4 with stride 2: a total of 1
    assert keys("ConvLSTM1D") == [] and keys("ConvLSTM2D") == []   # even totals; "valid"


def test_every_behaviour_names_its_documentation_and_at_least_two_choices():
    for b in unspecified.BEHAVIOURS:
        assert len(b.choices) >= 2 and b.oracle_choice == next(iter(b.choices))
        assert "\"" in b.documented, f"{b.key}: quote the documentation it relies on"
    text = unspecified.markdown()
    assert all(f"`{b.key}`" in text for b in unspecified.BEHAVIOURS)
