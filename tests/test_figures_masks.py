"""figures.masks: a mask to click on, mask parts in their own shapes, the sequences × heads grid."""

import numpy as np
import pytest

from maskattn import figures
from maskattn.broadcast import broadcast_masks
from maskattn.figures.heatmap import outline_path
from maskattn.state import Inputs


def z(fig) -> np.ndarray:
    return np.asarray(fig.data[0].z, dtype=float)


def test_the_padding_part_is_one_row_per_sequence():
    view = broadcast_masks(Inputs(causal=True), 2)
    fig = figures.part_figure("padding", view.parts["padding"])
    np.testing.assert_array_equal(z(fig), view.parts["padding"][:, 0, 0, :])        # (B, Tk)
    assert list(fig.data[0].y) == ["seq 1", "seq 2", "seq 3"] and list(fig.data[0].x) == list("012345")
    assert fig.layout.title.text == "padding (B, 1, 1, Tk)"
    assert fig.layout.shapes[1].path == outline_path(view.parts["padding"][:, 0, 0, :])


def test_the_query_padding_part_is_one_column_per_sequence():
    part = broadcast_masks(Inputs(mask_queries=True), 2).parts["query_padding"]        # (B, 1, Tq, 1)
    fig = figures.part_figure("query_padding", part)
    np.testing.assert_array_equal(z(fig), part[:, 0, :, 0].T)                         # (Tq, B)
    assert list(fig.data[0].x) == ["seq 1", "seq 2", "seq 3"]


@pytest.mark.parametrize("inputs, name", [(Inputs(window=2), "window"), (Inputs(prefix_length=2), "prefix"),
                                          (Inputs(packed=True), "document")])
def test_square_parts_are_drawn_as_they_are(inputs, name):
    part = broadcast_masks(inputs, 2).parts[name]
    fig = figures.part_figure(name, part)
    np.testing.assert_array_equal(z(fig), part[0, 0] if part.ndim == 4 else part)


@pytest.mark.parametrize("T, clickable", [(3, True), (figures.MAX_CLICKABLE, True), (figures.MAX_CLICKABLE + 1, False)])
def test_the_drawn_mask_is_clickable_up_to_the_limit(T, clickable):
    mask = np.triu(np.ones((T, T)), 1)
    fig = figures.drawn_mask_figure(mask, [str(i) for i in range(T)], title="your mask")
    markers = [t for t in fig.data if t.type == "scatter" and t.x and len(t.x) == T * T]
    assert bool(markers) == clickable
    np.testing.assert_array_equal(z(fig), mask)


def test_the_grid_has_a_row_per_sequence_and_the_same_outline_on_every_head():
    view = broadcast_masks(Inputs(text="a b\nc d e\nf\ng h\ni", causal=True), 4)
    rows = figures.broadcast_figures(view, lambda b: [f"{i}·{t}" for i, t in enumerate(view.batch.tokens[b])])
    assert len(rows) == figures.MAX_GRID_SEQUENCES and all(len(row) == 1 + 4 for row in rows)
    for b, row in enumerate(rows):
        mask = view.mask[b, 0]
        np.testing.assert_array_equal(z(row[0]), mask)
        paths = {fig.layout.shapes[1].path for fig in row}
        assert paths == {outline_path(mask)}                          # copied across the heads
        for h, fig in enumerate(row[1:]):
            assert fig.layout.title.text == f"sequence {b + 1}, head {h + 1}"
            values = view.steps.masked_logits[b, h].astype(float)
            on_scale = ~np.isnan(z(fig))
            np.testing.assert_array_equal(z(fig)[on_scale], values[on_scale])
            assert np.all(mask[~on_scale] == 1)                      # only masked (-1e9) cells are off the scale
