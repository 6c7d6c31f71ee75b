"""dtypes: a float64 layer returns float64 output AND states; under mixed_float16 (bfloat16)
every returned tensor is float16 (bfloat16) while the weights stay float32 (one test), and the
values follow the oracle within the dtype's tolerance (another: a precision bug is not a dtype
bug). The policy is passed to the layer (dtype=...), so no test touches the global policy."""

import pytest

from rnnconf.spec import contract
from rnnconf.harness.checks import check_against_oracle, roles_of, run_under_policy

POLICIES = contract.DTYPE_POLICIES  # policy -> (compute dtype of every returned tensor, variable dtype)
policies = pytest.mark.parametrize("policy", list(POLICIES))


@policies
@pytest.mark.shapes("options")
def test_dtype_of_every_output_and_state(make_run, entry, return_sequences, return_state, shape, device,
                                         policy):
    compute, variable = POLICIES[policy]
    run = run_under_policy(make_run, policy)
    context = run.describe(return_sequences, return_state)
    roles, got = roles_of(run, return_sequences, return_state)
    wrong = [f"{role}: {dtype}" for role, dtype in zip(roles, contract.flatten(got.dtypes)) if dtype != compute]
    assert not wrong, f"expected every returned tensor in {compute} for {context}; got {', '.join(wrong)}"
    weights = run.layer(return_sequences, return_state).weights
    kept = {str(getattr(w.dtype, "name", w.dtype)).replace("tf.", "") for w in weights}
    assert kept == {variable}, f"weights are {sorted(kept)}, expected {variable} under {policy} for {context}"


@policies
@pytest.mark.shapes("options")
def test_values_under_policy(make_run, entry, return_sequences, return_state, shape, device, policy, record):
    run = run_under_policy(make_run, policy)
    check_against_oracle(run, return_sequences, return_state, record, dtype=POLICIES[policy][0])
