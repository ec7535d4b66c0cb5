"""maskattn.frameworks: the registry's boundary, its conventions and properties every entry must have.

Each entry's numbers are checked against its real library in test_frameworks_real.py;
here are the fast, library-free properties.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from maskattn import frameworks, numerics as nx
from maskattn.errors import MaskAttnError

ISSUE_KEYS = ("tf_tutorial", "keras2", "keras3", "keras3_fused", "torch_sdpa", "torch_mha", "hf_eager", "hf_sdpa",
              "jax", "flax", "annotated_transformer")

logits_rows = hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 6)),
                         elements=st.floats(-20, 20, allow_nan=False))


def test_registry_has_the_issues_keys_and_one_default_per_api():
    assert set(ISSUE_KEYS) <= set(frameworks.keys())
    assert frameworks.keys() == tuple(fw.key for fw in frameworks.all_frameworks())
    libraries = {}
    for fw in frameworks.all_frameworks():
        libraries.setdefault(fw.api.split("(")[0], []).append(fw.default)
    for name in ("keras.layers.MultiHeadAttention", "BertModel"):              # one layer, two paths
        assert sorted(libraries[name]) == [False, True], name


@pytest.mark.parametrize("bad", ["pytorch", "", None, 3])
def test_unknown_key_names_the_value_and_the_choices(bad):
    with pytest.raises(MaskAttnError, match="tf_tutorial, keras2") as err:
        frameworks.get(bad)
    assert repr(bad) in str(err.value)


@pytest.mark.parametrize("dtype", ["int8", "float8", "complex64", object])
def test_a_dtype_a_framework_cannot_run_names_the_choices(dtype):
    with pytest.raises(MaskAttnError, match="runs in float16, bfloat16, float32, float64"):
        frameworks.get("jax").weights([[1.0]], [[0]], dtype)


def test_bad_masks_and_shapes_name_the_value():
    fw = frameworks.get("keras3")
    with pytest.raises(MaskAttnError, match="got 2 at row 1, column 2"):
        fw.weights([[1.0, 2.0]], [[0, 2]])
    with pytest.raises(MaskAttnError, match=r"\(3,\)"):
        fw.weights([[1.0, 2.0]], [0, 0, 1])


def test_annotated_transformer_float16_raises_with_pytorchs_reason():
    with pytest.raises(MaskAttnError, match="value cannot be converted to type c10::Half without overflow"):
        frameworks.get("annotated_transformer").weights([[1.0, 2.0]], [[0, 1]], "float16")


@pytest.mark.parametrize("key", frameworks.keys())
def test_every_convention_converts_the_tutorial_mask_to_its_own_polarity(key):
    fw = frameworks.get(key)
    tutorial = np.array([[0.0, 1.0], [1.0, 1.0]])
    values = fw.convention.to_library(tutorial, "float32")
    if fw.convention.one_means == frameworks.BLOCKED:
        assert values.astype(float).tolist() == tutorial.tolist()
    elif fw.convention.one_means == frameworks.ATTEND:
        assert values.astype(float).tolist() == (1 - tutorial).tolist()
    else:                                                                     # an added float mask
        assert (values[tutorial == 1] < 0).all() and (values[tutorial == 0] == 0).all()


@settings(max_examples=25, deadline=None)
@given(logits_rows, st.sampled_from([k for k in frameworks.keys() if k != "tf_tutorial"]),
       st.sampled_from(["bfloat16", "float32", "float64"]))
def test_partly_masked_rows_sum_to_one_with_blocked_keys_at_exactly_zero(x, key, dtype):
    # every entry masks a partly masked row of modest logits: blocked weight exactly 0, the rest a softmax
    mask = np.zeros(x.shape)
    mask[:, 0] = 1.0                                                          # key 0 blocked, the rest open
    w = frameworks.get(key).weights(x, mask, dtype).astype(np.float64)
    assert (w[:, 0] == 0).all()
    assert np.allclose(w.sum(axis=-1), 1.0, atol=4 * float(nx.finfo(dtype).eps) * x.shape[1])


@settings(max_examples=25, deadline=None)
@given(logits_rows, st.sampled_from(frameworks.keys()))
def test_no_mask_is_the_same_as_a_mask_of_zeros_except_the_tutorials_float16(x, key):
    fw = frameworks.get(key)
    none = fw.weights(x, None, "float32").astype(np.float64)
    zeros = fw.weights(x, np.zeros(x.shape), "float32").astype(np.float64)
    assert np.array_equal(none, zeros)


def test_float16_tutorial_mask_poisons_unmasked_cells_but_not_without_a_mask():
    fw = frameworks.get("tf_tutorial")
    assert np.isnan(fw.weights([[1.0, 2.0]], [[0, 0]], "float16").astype(float)).all()   # 0 * -inf = NaN
    assert not np.isnan(fw.weights([[1.0, 2.0]], None, "float16").astype(float)).any()   # no mask term at all


def test_with_constant_only_changes_paths_that_take_the_apps_constant():
    tf = frameworks.get("tf_tutorial").with_constant(-1e4, "fill")
    assert (tf.mask_value, tf.method) == (-1e4, "fill")
    assert frameworks.get("jax").with_constant(-1e4, "fill") is frameworks.get("jax")


def test_a_newer_mask_a_framework_file_does_not_describe_is_said_in_its_dialect():
    """A new part in the table of mask parts needs no line in every framework file: the dialect writes it."""
    from dataclasses import replace
    sdpa = replace(frameworks.get("torch_sdpa"), expressions={})
    assert sdpa.expression("window").api == "attend built with q_idx - kv_idx < WINDOW"
    assert not sdpa.expression("window").native
    mha = replace(frameworks.get("torch_mha"), expressions={})
    assert mha.expression("document").api == "attn_mask built with doc_t[:, :, None] != doc_t[:, None, :]"
    with pytest.raises(MaskAttnError, match="'padding'"):
        sdpa.expression("padding")
