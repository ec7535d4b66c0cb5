"""figures.heatmap and the Playground's figures: honest colour, outlined masks, labelled specials, numbers that fit."""

import json

import numpy as np
import plotly.io as pio
import pytest
from hypothesis import given, settings, strategies as st

from maskattn import figures
from maskattn.figures.heatmap import CHAR_EM, LEAK_COLOUR, OUTLINE_COLOUR, SHRINK, geometry
from maskattn.pipeline import compute
from maskattn.state import Inputs
from maskattn.text import spell


def masked_logits_figure(inputs=Inputs(), **kwargs):
    r = compute(inputs)
    fig = figures.heatmap(r.steps.masked_logits, r.labels, r.labels, title="masked", mask=r.mask, **kwargs)
    return r, fig


def by_name(fig):
    return {t.name: t for t in fig.data}


def shapes_of(fig, kind):
    return [s for s in fig.layout.shapes if s.type == kind]


def test_colour_range_comes_from_the_real_logits_not_the_constant():
    r, fig = masked_logits_figure()
    real = r.steps.masked_logits[r.mask == 0].astype(float)
    bound = np.abs(real).max()
    assert fig.layout.coloraxis.cmin == pytest.approx(-bound)
    assert fig.layout.coloraxis.cmax == pytest.approx(bound)
    assert bound < 100                                            # nowhere near -1e9


def test_an_off_scale_cell_is_its_own_labelled_category_with_its_value_printed():
    r, fig = masked_logits_figure()
    overlay = by_name(fig)["special values"]
    np.testing.assert_array_equal(np.asarray(overlay.z) == 1, r.mask == 1)      # off-scale low = the -1e9 cells
    assert np.isnan(np.asarray(fig.data[0].z, float)[r.mask == 1]).all()         # not on the colour scale
    assert (np.array(overlay.text)[r.mask == 1] == "-1e9").all()                # the value is printed, once
    assert (np.array(fig.data[0].text)[r.mask == 1] == "").all()
    assert "off-scale, e.g. -1e9" in [t.name for t in fig.data if t.showlegend]
    assert overlay.hoverinfo == "skip"


def test_a_masked_cell_keeps_the_colour_of_its_value_and_is_outlined():
    """A leak must show in the picture: masked weights are coloured by value, the mask is an outline."""
    r = compute(Inputs(constant="-1"))                           # -1 is far too small: the pads leak
    fig = figures.heatmap(r.steps.weights, r.labels, r.labels, title="w", mask=r.mask, kind="weights")
    z = np.asarray(fig.data[0].z, float)
    np.testing.assert_array_equal(z, r.steps.weights.astype(float))             # masked cells included
    assert (z[r.mask == 1] > 0).all()
    (path,) = [s.path for s in shapes_of(fig, "path") if s.line.color == OUTLINE_COLOUR]
    assert path == figures.outline_path(r.mask)
    flags = [s for s in shapes_of(fig, "path") if s.fillcolor == LEAK_COLOUR]
    assert len(flags) == 1 and flags[0].path.count("Z") == int((r.mask == 1).sum())   # every leaking cell flagged


def test_no_leak_no_flag():
    r = compute(Inputs())
    fig = figures.heatmap(r.steps.weights, r.labels, r.labels, title="w", mask=r.mask, kind="weights")
    assert not [s for s in shapes_of(fig, "path") if s.fillcolor]
    assert (np.array(fig.data[0].text)[r.mask == 1] == "0").all()             # exactly 0, printed as 0


def test_outline_path_of_nothing_is_empty():
    assert figures.outline_path(np.zeros((2, 2))) == ""


@given(st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=3, max_size=3))
@settings(max_examples=60, deadline=None)
def test_outline_length_equals_the_masked_regions_perimeter(cells):
    """The outline runs along every edge between a masked and an open cell (or the border), once."""
    mask = np.array(cells, dtype=int)
    padded = np.pad(mask, 1)
    perimeter = int((np.diff(padded, axis=0) != 0).sum() + (np.diff(padded, axis=1) != 0).sum())
    total = 0.0
    for part in figures.outline_path(mask).split("M")[1:]:
        head, tail = (part.split("H") if "H" in part else part.split("V"))
        x, y = map(float, head.split(","))
        total += abs(float(tail) - (x if "H" in part else y))
    assert total == perimeter


def test_nan_and_inf_cells_get_their_own_colours_names_and_text():
    values = np.array([[np.nan, -np.inf], [np.inf, 1.0]], np.float32)
    fig = figures.heatmap(values, ["a", "b"], ["a", "b"], title="t")
    codes = np.asarray(by_name(fig)["special values"].z)
    assert codes.tolist() == [[3, 4], [5, 0]]
    assert np.array(by_name(fig)["special values"].text).tolist() == [["NaN", "-inf"], ["inf", ""]]
    assert np.array(fig.data[0].text).tolist() == [["", ""], ["", "1"]]          # each number drawn once
    assert {"NaN", "-inf", "inf"} <= {t.name for t in fig.data if t.showlegend}
    assert fig.layout.coloraxis.cmin == -1.0 and fig.layout.coloraxis.cmax == 1.0   # symmetric around 0


def test_float16_nan_weights_still_build():
    r = compute(Inputs(dtype="float16"))
    fig = figures.heatmap(r.steps.weights, r.labels, r.labels, title="w", mask=r.mask, kind="weights")
    assert (np.asarray(by_name(fig)["special values"].z) == 3).all()


def test_values_travel_as_typed_arrays_in_their_dtype():
    r, fig = masked_logits_figure(Inputs(dtype="float64"))
    assert fig.data[0].z.dtype == np.float64                      # float64 values keep every bit
    r, fig = masked_logits_figure(Inputs(dtype="bfloat16"))
    assert fig.data[0].z.dtype == np.float32                      # exact for bfloat16
    assert by_name(fig)["special values"].z.dtype == np.uint8
    spec = json.loads(pio.to_json(fig))
    assert spec["data"][0]["z"]["dtype"] == "f4" and "bdata" in spec["data"][0]["z"]


def test_labels_are_escaped_and_hover_is_not_user_text():
    labels = ["<img src=x onerror=alert(1)>", "b"]
    fig = figures.heatmap(np.zeros((2, 2)), labels, labels, title="t")
    assert "<img" not in json.dumps(list(fig.data[0].x)) + json.dumps(list(fig.layout.xaxis.ticktext))
    assert fig.data[0].x[0].startswith("&lt;img")


def test_hover_carries_the_exact_value_and_click_layer_carries_the_hover():
    """Hover and click together: the click layer is the hover layer, so it cannot swallow it."""
    r = compute(Inputs(dtype="bfloat16", constant="-1"))
    fig = figures.heatmap(r.steps.weights, r.labels, r.labels, title="w", mask=r.mask, kind="weights",
                          dtype="bfloat16", clickable=True)
    layer = by_name(fig)["select a row"]
    assert len(layer.x) == len(r.labels) ** 2 and "%{text}" in layer.hovertemplate
    assert layer.text[3] == spell(r.steps.weights[0, 3], "bfloat16") + " · masked"
    assert fig.data[0].hoverinfo == "skip"
    assert fig.layout.hoverdistance == -1                         # the nearest cell answers anywhere in the plot


def test_without_a_click_layer_the_heatmap_hovers_its_exact_text():
    fig = figures.heatmap(np.array([[0.1, 2.0]], np.float32), ["a", "b"], ["q"], title="t", dtype="float32")
    assert list(fig.data[0].hovertext[0]) == ["0.1", "2"]
    assert "%{hovertext}" in fig.data[0].hovertemplate


def test_numbers_fit_their_cells_in_one_format_or_are_left_to_hover():
    for T in (4, 6, 8, 12, 16, 32):
        labels = [f"{i}·tok" for i in range(T)]
        values = np.random.default_rng(T).standard_normal((T, T)).astype(np.float32)
        fig = figures.heatmap(values, labels, labels, title="t")
        g = geometry(T, T, x_labels=labels, y_labels=labels, width=figures.PANEL_WIDTH)
        if fig.data[0].text is None:
            assert g.text_chars == 0
            continue
        width_px = max(len(t) for row in fig.data[0].text for t in row) * CHAR_EM * fig.data[0].textfont.size
        assert width_px <= g.cell * SHRINK - 4, T                 # never touching, even 12 % narrower


def test_a_64_token_panel_has_no_numbers_but_hover_and_labels_that_do_not_collide():
    labels = [f"{i}·w{i}" for i in range(64)]
    fig = figures.heatmap(np.zeros((64, 64), np.float32), labels, labels, title="t")
    assert fig.data[0].text is None and fig.data[0].hovertext is not None
    g = geometry(64, 64, x_labels=labels, y_labels=labels, width=figures.PANEL_WIDTH)
    assert len(fig.layout.xaxis.tickvals) == len(range(0, 64, g.tick_step))
    assert g.cell * g.tick_step >= g.tick_size * 1.25            # shown labels are a line apart


def test_a_large_empty_mask_says_so_instead_of_a_blank_square():
    labels = [str(i) for i in range(256)]
    fig = figures.heatmap(np.zeros((256, 256), np.float32), labels, labels, title="mask", kind="mask")
    assert any("no cell is blocked" in a.text for a in fig.layout.annotations)


def test_the_mask_term_shows_where_nan_is_born():
    r = compute(Inputs(dtype="float16"))
    fig = figures.playground_figures(r)["mask-term"]
    overlay = by_name(fig)["special values"]
    np.testing.assert_array_equal(np.asarray(overlay.z) == 3, r.mask == 0)      # 0 x -inf = NaN
    np.testing.assert_array_equal(np.asarray(overlay.z) == 4, r.mask == 1)      # 1 x -inf = -inf
    assert fig.layout.title.text == "mask term: mask × (-inf)"


@pytest.mark.parametrize("dtype, method, term", [("float32", "add", "mask term: mask × (-1e9) = 0 here"),
                                                  ("float16", "add", "mask term: mask × (-inf) = NaN (0 × -inf)"),
                                                  ("float16", "fill", "fill: nowhere (nothing blocked)")])
def test_a_mask_that_blocks_nothing_says_so_in_its_titles(dtype, method, term):
    """A padding mask on a row without pads: a blank panel must not read as a broken one, and float16's NaN is real."""
    r = compute(Inputs(text="a b c", dtype=dtype, method=method))
    figs = figures.playground_figures(r)
    assert figs["mask"].layout.title.text == "mask: nothing blocked here"
    assert figs["mask-term"].layout.title.text == term
    assert np.isnan(r.steps.mask_term).any() == ("NaN" in term)


def test_no_mask_means_no_mask_term():
    r = compute(Inputs(padding=False, dtype="float16"))
    figs = figures.playground_figures(r)
    assert figs["mask-term"].layout.title.text.startswith("mask term: none")
    assert not np.isnan(np.asarray(figs["weights"].data[0].z, float)).any()


def test_playground_figures_are_fixed_size_and_deterministic():
    r = compute(Inputs(causal=True))
    a, b = figures.playground_figures(r), figures.playground_figures(r)
    assert list(a) == list(figures.FIGURE_NAMES)
    for name in figures.STAGES:
        assert a[name].layout.width == figures.PANEL_WIDTH
        assert pio.to_json(a[name]) == pio.to_json(b[name])
    # every stage panel has the same grid of cells at the same height, so the stages line up
    assert len({(f.layout.margin.l, f.layout.margin.r, f.layout.margin.t,
                 f.layout.height - f.layout.margin.t - f.layout.margin.b)
                for f in (a[n] for n in figures.STAGES)}) == 1


def test_the_raw_logits_figure_does_not_change_with_the_mask():
    """A mask, constant or method change leaves the raw logits figure byte for byte: the server sends a
    reference instead of the figure and the browser does not redraw it."""
    specs = {pio.to_json(figures.playground_figures(compute(inputs))["logits"])
             for inputs in (Inputs(), Inputs(causal=True), Inputs(constant="-1e4", method="fill"),
                            Inputs(padding=False, mask_queries=True))}
    assert len(specs) == 1


def test_publication_size_grows_with_the_tokens():
    for text in ("a b c", "a b c d e f g h i j k l"):
        r = compute(Inputs(text=text, padding=False))
        fig = figures.playground_figures(r, cell=figures.PUBLICATION_CELL, font_size=figures.PUBLICATION_FONT,
                                         width=None)["weights"]
        plot = fig.layout.width - fig.layout.margin.l - fig.layout.margin.r
        assert plot == pytest.approx(figures.PUBLICATION_CELL * len(r.labels), abs=1)
        assert fig.data[0].text is not None                      # numbers fit at publication size


def test_row_outline_is_two_shapes_on_the_row():
    shapes = figures.row_outline(2, 5)
    assert [(s["y0"], s["y1"], s["x0"], s["x1"]) for s in shapes] == [(1.5, 2.5, -0.5, 4.5)] * 2


def test_shape_errors():
    with pytest.raises(ValueError, match=r"2x2 matrix needs 2 row and 2 column labels, got 1 and 2"):
        figures.heatmap(np.zeros((2, 2)), ["a", "b"], ["a"], title="t")
    with pytest.raises(ValueError, match="2-D"):
        figures.heatmap(np.zeros(3), ["a"], ["a"], title="t")
    with pytest.raises(ValueError, match="kind must be"):
        figures.heatmap(np.zeros((1, 1)), ["a"], ["a"], title="t", kind="pie")


def test_export_config_names_the_file_and_fixes_the_size():
    cfg = figures.export_config("weights seq1/float16", width=392, height=400)
    assert cfg["toImageButtonOptions"]["filename"] == "weights-seq1-float16"
    assert cfg["toImageButtonOptions"]["scale"] >= 2
    assert (cfg["toImageButtonOptions"]["width"], cfg["toImageButtonOptions"]["height"]) == (392, 400)


@pytest.mark.parametrize("inputs", [Inputs(), Inputs(dtype="float16", causal=True), Inputs(constant="-1"),
                                    Inputs(padding=False), Inputs(text=" ".join(f"w{i}" for i in range(40)))])
def test_every_figure_passes_plotlys_full_validation(inputs):
    """The builders skip Plotly's per-property validation for speed; here every figure gets it in full."""
    import plotly.graph_objects as go
    r = compute(inputs)
    built = list(figures.playground_figures(r).values())
    built += list(figures.playground_figures(r, cell=figures.PUBLICATION_CELL, width=None).values())
    for fig in built:
        go.Figure(fig.to_dict())                                  # raises on any invalid property


def test_colour_scales_travel_as_explicit_stops():
    """The builders skip Plotly's validation, which is what turns a Python-only name such as "RdBu_r"
    into stops: Plotly.js would not know it and would draw another scale."""
    r = compute(Inputs(constant="-1"))
    for fig in figures.playground_figures(r).values():
        spec = fig.to_dict()
        scales = [spec["layout"].get("coloraxis", {}).get("colorscale")]
        scales += [t.get("colorscale") for t in spec["data"]]
        assert all(s is None or isinstance(s, (list, tuple)) for s in scales), scales


def test_stage_panels_line_up_whatever_their_legends():
    """Legends sit under the x axis: every stage panel's plot starts at the same height."""
    for inputs in (Inputs(), Inputs(dtype="float16"), Inputs(constant="-1"), Inputs(padding=False)):
        figs = figures.playground_figures(compute(inputs))
        tops = {figs[name].layout.margin.t for name in figures.STAGES}
        assert len(tops) == 1, (inputs, tops)


def test_the_masked_logits_keep_the_raw_logits_colour_scale_when_a_mask_hides_the_largest():
    """Causal hides the largest logit of some rows: the open cells keep their colours (the scale is the raw logits')."""
    from maskattn.figures import playground_figures
    from maskattn.pipeline import compute
    from maskattn.state import Inputs

    def scale(inputs):
        layout = playground_figures(compute(inputs))["masked-logits"].to_dict()["layout"]["coloraxis"]
        return layout["cmin"], layout["cmax"]

    plain, causal = compute(Inputs()), compute(Inputs(causal=True))
    assert np.abs(plain.steps.logits).max() == np.abs(causal.steps.logits).max()
    assert scale(Inputs()) == scale(Inputs(causal=True)) == scale(Inputs(padding=False))
