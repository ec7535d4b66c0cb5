"""figures: honest colour ranges, marked cells, escaped labels, typed arrays."""

import json

import numpy as np
import plotly.io as pio
import pytest

from maskattn import figures
from maskattn.pipeline import compute
from maskattn.state import Settings


def masked_logits_figure(settings=Settings(), **kwargs):
    r = compute(settings)
    fig = figures.heatmap(r.steps.masked_logits, r.labels, r.labels, title="masked", mask=r.mask,
                          symmetric=True, **kwargs)
    return r, fig


def test_colour_range_ignores_the_constant():
    r, fig = masked_logits_figure()
    real = r.steps.masked_logits[r.mask == 0].astype(float)
    bound = np.abs(real).max()
    assert fig.layout.coloraxis.cmin == pytest.approx(-bound)
    assert fig.layout.coloraxis.cmax == pytest.approx(bound)
    assert bound < 100                               # nowhere near -1e9


def test_masked_cells_are_marked_by_an_overlay_and_text():
    r, fig = masked_logits_figure()
    assert len(fig.data) == 2
    codes = np.asarray(fig.data[1].z)
    np.testing.assert_array_equal(codes == figures.OVERLAY["masked"][0], r.mask == 1)
    text = np.array(fig.data[0].text)
    assert (text[r.mask == 1] == "-1e9").all()       # the value is printed, not hidden
    assert fig.data[1].hoverinfo == "skip"           # hover reaches the value underneath


def test_nan_and_inf_cells_get_glyphs():
    values = np.array([[np.nan, -np.inf], [np.inf, 1.0]], np.float32)
    fig = figures.heatmap(values, ["a", "b"], ["a", "b"], title="t")
    codes = np.asarray(fig.data[1].z)
    assert codes.tolist() == [[2, 3], [4, 0]]
    assert np.array(fig.data[0].text).tolist() == [["NaN", "−∞"], ["+∞", "1"]]
    assert fig.layout.coloraxis.cmin == 0.0 and fig.layout.coloraxis.cmax == 2.0   # widened around 1


def test_float16_everything_nan_still_builds():
    r, fig = masked_logits_figure(Settings(dtype="float16"))
    r2 = compute(Settings(dtype="float16"))
    wfig = figures.heatmap(r2.steps.weights, r2.labels, r2.labels, title="w", mask=r2.mask, zrange=(0, 1))
    assert (np.asarray(wfig.data[1].z) == 2).all()


def test_values_travel_as_typed_arrays_in_their_dtype():
    r, fig = masked_logits_figure(Settings(dtype="float64"))
    assert fig.data[0].z.dtype == np.float64          # float64 values keep every bit
    r, fig = masked_logits_figure(Settings(dtype="bfloat16"))
    assert fig.data[0].z.dtype == np.float32          # exact for bfloat16
    assert fig.data[1].z.dtype == np.uint8
    spec = json.loads(pio.to_json(fig))
    assert spec["data"][0]["z"]["dtype"] == "f4" and "bdata" in spec["data"][0]["z"]


def test_labels_are_escaped_and_hover_is_not_user_text():
    labels = ["<img src=x onerror=alert(1)>", "b"]
    fig = figures.heatmap(np.zeros((2, 2)), labels, labels, title="t")
    assert "<img" not in json.dumps(list(fig.data[0].x))
    assert fig.data[0].x[0].startswith("&lt;img")


def test_text_only_on_small_matrices_and_click_layer_only_when_asked():
    small = figures.heatmap(np.zeros((4, 4)), list("abcd"), list("abcd"), title="t", clickable=True)
    assert small.data[0].text is not None and small.data[-1].type == "scatter"
    assert len(small.data[-1].x) == 16
    n = figures.MAX_CELLS_WITH_TEXT + 1
    labels = [str(i) for i in range(n)]
    big = figures.heatmap(np.zeros((n, n)), labels, labels, title="t")
    assert big.data[0].text is None and len(big.data) == 1


def test_figures_are_deterministic():
    a = pio.to_json(masked_logits_figure()[1])
    b = pio.to_json(masked_logits_figure()[1])
    assert a == b


def test_shape_errors():
    with pytest.raises(ValueError, match=r"2x2 matrix needs 2 row and 2 column labels, got 1 and 2"):
        figures.heatmap(np.zeros((2, 2)), ["a", "b"], ["a"], title="t")
    with pytest.raises(ValueError, match="2-D"):
        figures.heatmap(np.zeros(3), ["a"], ["a"], title="t")


def test_mask_and_output_figures():
    r = compute(Settings(causal=True))
    m = figures.mask_figure(r.mask, r.labels, r.labels)
    np.testing.assert_array_equal(np.asarray(m.data[0].z), r.mask)
    o = figures.output_figure(r.steps.output, r.labels)
    assert list(o.data[0].x)[:2] == ["v0", "v1"] and o.layout.coloraxis.cmid == 0


def test_export_config_names_the_file():
    cfg = figures.export_config("weights seq1/float16")
    assert cfg["toImageButtonOptions"]["filename"] == "weights-seq1-float16"
    assert cfg["toImageButtonOptions"]["scale"] >= 2


def test_nan_glyphs_survive_in_wider_matrices():
    """The 16-column output of a float16 NaN row: too wide for numbers, not for the NaN glyph."""
    values = np.full((3, 16), np.nan, np.float32)
    values[0] = 1.0
    fig = figures.heatmap(values, [f"v{i}" for i in range(16)], ["a", "b", "c"], title="t")
    assert fig.data[0].text is None
    glyphs = np.array(fig.data[1].text)
    assert (glyphs[1:] == "NaN").all() and (glyphs[0] == "").all()
