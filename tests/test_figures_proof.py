"""figures.proof: the Proof page's panels draw the core's arrays, outline the masked cells, and name their maxima."""

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from maskattn import figures, proof
from maskattn.figures.heatmap import OUTLINE_COLOUR
from maskattn.masks import create_look_ahead_mask
from maskattn.pipeline import compute
from maskattn.state import Inputs
from maskattn.text import spell


def outlines(fig) -> list[str]:
    return [s.path for s in fig.layout.shapes if s.type == "path" and s.line.color == OUTLINE_COLOUR]


def z(fig) -> np.ndarray:
    return np.asarray(fig.data[0].z, dtype=np.float64)


def test_deleted_figures_draw_both_softmaxes_and_their_difference():
    r = compute(Inputs(constant="-10"))
    deleted = proof.delete_masked_keys(r.steps)
    figs = figures.deleted_figures(deleted, r.labels, r.mask)
    assert list(figs) == list(figures.DELETED_NAMES)
    np.testing.assert_array_equal(z(figs["masked-softmax"]), deleted.weights)
    np.testing.assert_array_equal(z(figs["deleted-softmax"]), deleted.deleted)
    np.testing.assert_array_equal(z(figs["difference"]), deleted.difference)     # float64: nothing rounded away
    assert figs["difference"].layout.title.text.endswith(f"(max |d| = {spell(deleted.max_difference, digits=3)})")
    for fig in figs.values():                                                   # the same cells outlined in all
        assert outlines(fig) == [figures.outline_path(r.mask)]


def test_deleted_figures_without_a_mask_outline_nothing():
    r = compute(Inputs(padding=False))
    figs = figures.deleted_figures(proof.delete_masked_keys(r.steps), r.labels, None)
    assert all(not outlines(fig) for fig in figs.values())
    assert figs["difference"].layout.title.text.endswith("(max |d| = 0)")


def test_a_nan_row_is_named_in_the_difference_title():
    r = compute(Inputs(dtype="float16"))
    figs = figures.deleted_figures(proof.delete_masked_keys(r.steps), r.labels, r.mask)
    assert figs["difference"].layout.title.text.endswith("(max |d| = NaN)")


def test_leak_figures_draw_a_column_per_query_before_and_after():
    r = compute(Inputs(constant="-10"))
    report = proof.leak_test_tokens(list(r.tokens), r.mask, amount=1e6, mask_value=-10.0)
    rows = np.flatnonzero(report.shielded)
    figs = figures.leak_figures(report, rows)
    assert list(figs) == list(figures.LEAK_NAMES)
    for name, steps in (("output-before", report.before), ("output-after", report.after)):
        fig = figs[name]
        assert list(fig.data[0].x) == [figures.safe_label(r.labels[i]) for i in rows]
        assert list(fig.data[0].y) == figures.value_labels(steps.output.shape[-1])
        np.testing.assert_array_equal(z(fig), steps.output[rows].T)
    # each panel has its own colour range: the leak of ~1e6 does not flatten the panel before it
    assert figs["output-before"].layout.coloraxis.cmax < 10 < figs["output-after"].layout.coloraxis.cmax


def test_gradient_figures_outline_masked_cells_and_unseen_keys():
    r = compute(Inputs())
    grads = proof.attention_grads(r.q, r.k, r.v, r.mask, d_output=np.ones(r.steps.output.shape))
    figs = figures.gradient_figures(grads, r.labels)
    assert list(figs) == list(figures.GRADIENT_NAMES)
    np.testing.assert_array_equal(z(figs["dlogits"]), grads.dlogits)
    np.testing.assert_array_equal(z(figs["dv"]), grads.dv.T)                  # a column per key
    assert list(figs["dv"].data[0].x) == [figures.safe_label(s) for s in r.labels]   # escaped, as every label
    assert outlines(figs["dlogits"]) == [figures.outline_path(r.mask)]
    unseen = np.zeros(grads.dv.T.shape)
    unseen[:, 3:] = 1                                               # the three pad keys: no query sees them
    assert outlines(figs["dv"]) == [figures.outline_path(unseen)]
    assert figs["dlogits"].layout.title.text == "∂L/∂logits (max |·| on masked cells = 0)"


def test_a_causal_mask_hides_no_key_from_every_query():
    T = 4
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((3, T, 2))
    grads = proof.attention_grads(q, k, v, create_look_ahead_mask(T), d_output=np.ones((T, 2)))
    figs = figures.gradient_figures(grads, list("abcd"))
    assert not outlines(figs["dv"])                                 # the last query sees every key
    assert figs["dv"].layout.title.text.endswith("on keys no query sees = 0)")


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=5),
                  elements=st.floats(allow_nan=True, allow_infinity=True, width=64)))
def test_max_abs_is_the_largest_magnitude_or_nan(values):
    expected = np.max(np.abs(values)) if values.size else 0.0
    assert figures.max_abs(values) == spell(expected, digits=3)
