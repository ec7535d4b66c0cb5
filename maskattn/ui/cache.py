"""Everything a page shows, computed once per state and shared between sessions.

Every cache is keyed by the frozen ``Inputs`` (what changes the numbers), plus, where a
view needs it, the ``Look`` (sizes for the screen or for presentation mode) and the
inspector's row. A row click therefore reuses the result and the figures: it only adds an
outline to cached figures (``stage_figure``) and looks up that row's table and formula.
"""

from __future__ import annotations

from dataclasses import dataclass
import functools
import inspect

import pyarrow as pa
import streamlit as st

from .. import figures
from ..broadcast import MaskBroadcast, broadcast_masks
from ..explain import row_table, verdicts
from ..inspector import STEP_COLUMNS, inspector_latex, inspector_rows
from ..masks import parse_compact_mask
from ..pipeline import PlaygroundResult, compute
from ..state import Inputs
from ..text import spell
from .render import formula_html, md_escape


@dataclass(frozen=True)
class Look:
    """How big things are drawn: the type size and the width of a heatmap panel, in pixels."""

    font_size: int
    panel_width: int
    subtitle: bool           # name the state under each title (screenshots); a slide has it once, on top


#: on screen: two panels side by side at 1280×720 with the sidebar open
SCREEN = Look(font_size=figures.BASE_FONT, panel_width=figures.PANEL_WIDTH, subtitle=True)
#: presentation mode: projector type, two panels side by side at 1280×720 with the sidebar closed
PRESENTATION = Look(font_size=18, panel_width=500, subtitle=False)


def look(presentation: bool) -> Look:
    return PRESENTATION if presentation else SCREEN


@st.cache_resource(max_entries=128, show_spinner=False)
def result(inputs: Inputs) -> PlaygroundResult:
    """``pipeline.compute(inputs)`` (raises ``MaskAttnError`` on bad input)."""
    return compute(inputs)


@st.cache_resource(max_entries=64, show_spinner=False)
def playground_figures(inputs: Inputs, look: Look) -> dict[str, figures.FrozenFigure]:
    """The Playground's figures for ``inputs`` at ``look``'s size, built once and shared."""
    figs = figures.playground_figures(result(inputs), font_size=look.font_size, width=look.panel_width,
                                      subtitle=look.subtitle)
    return {name: figures.FrozenFigure(fig) for name, fig in figs.items()}


@st.cache_resource(max_entries=512, show_spinner=False)
def stage_figure(inputs: Inputs, look: Look, name: str, row: int) -> figures.FrozenFigure:
    """A stage figure with the inspector's row outlined: the cached figure plus two shapes."""
    base = playground_figures(inputs, look)[name]
    cols = len(result(inputs).labels)
    return base.with_shapes(figures.row_outline(row, cols))


@st.cache_resource(max_entries=256, show_spinner=False)
def row_weights_figure(inputs: Inputs, row: int, font_size: int) -> figures.FrozenFigure:
    """The inspector's bar chart of one query row's weights, without and with the mask."""
    r = result(inputs)
    label = figures.safe_label(r.labels[row])
    return figures.FrozenFigure(figures.weights_bar_figure(
        r.labels, r.unmasked.weights[row], r.steps.weights[row], blocked=r.mask[row] if r.has_mask else None,
        title=f"weights of query {label}: without and with the mask", font_size=font_size, dtype=r.steps.dtype))


#: the inspector's columns: the key, the steps in order, and (on request) the dtype's spacing
SPACING_COLUMN = "spacing at masked logit"


def _arrow(records: list[dict]) -> pa.Table:
    """Records as an Arrow table: ``st.dataframe`` sends it without a pandas conversion (~1 ms each)."""
    return pa.Table.from_pylist(records)


@st.cache_resource(max_entries=256, show_spinner=False)
def inspector_table(inputs: Inputs, row: int, show_spacing: bool) -> pa.Table:
    """One query row step by step, every value spelled exactly as the compute dtype holds it."""
    r = result(inputs)
    dtype = r.steps.dtype
    records = []
    for record in inspector_rows(r.steps, row, r.labels):
        out = {"key": record["key"], "masked": "yes" if record["masked"] else ""}
        out |= {c: spell(record[c], dtype) for c in STEP_COLUMNS}
        if show_spacing:
            out[SPACING_COLUMN] = spell(record[SPACING_COLUMN])
        records.append(out)
    return _arrow(records)


@st.cache_resource(max_entries=128, show_spinner=False)
def row_check_table(inputs: Inputs) -> pa.Table:
    """Per query row: its sum, its leaked mass and a verdict (``explain.row_table``)."""
    return _arrow(row_table(result(inputs)))


@st.cache_resource(max_entries=256, show_spinner=False)
def inspector_formula(inputs: Inputs, row: int) -> str:
    """The formula for one query row with its real numbers, from the mask term on, as MathML (one element)."""
    return formula_html(inspector_latex(result(inputs).steps, row))


@st.cache_resource(max_entries=128, show_spinner=False)
def verdict_lines(inputs: Inputs) -> tuple[str, ...]:
    """The verdict sentences for ``inputs``, user text escaped for markdown."""
    return tuple(md_escape(line) for line in verdicts(result(inputs)))


@st.cache_resource(max_entries=64, show_spinner=False)
def weights_figure(inputs: Inputs, look: Look, title: str) -> figures.FrozenFigure:
    """The Playground's softmax weights for ``inputs`` under its own title (a case shown beside others)."""
    spec = playground_figures(inputs, look)["weights"].to_dict()
    layout = dict(spec["layout"], title=dict(spec["layout"]["title"], text=title))
    return figures.FrozenFigure(dict(spec, layout=layout))


@st.cache_resource(max_entries=64, show_spinner=False)
def mask_broadcast(inputs: Inputs, heads: int) -> MaskBroadcast:
    """``broadcast.broadcast_masks(inputs, heads)``: every part of the mask, their maximum, every head."""
    return broadcast_masks(inputs, heads)


@st.cache_resource(max_entries=64, show_spinner=False)
def broadcast_panels(inputs: Inputs, heads: int, look: Look) -> tuple[tuple[figures.FrozenFigure, ...],
                                                                      tuple[tuple[figures.FrozenFigure, ...], ...]]:
    """The parts of the mask in their own shapes, and the sequences × (mask + heads) grid."""
    view = mask_broadcast(inputs, heads)
    width = int(figures.SMALL_PANEL * look.panel_width / SCREEN.panel_width)
    size = dict(font_size=look.font_size, width=width)
    parts = tuple(figures.FrozenFigure(figures.part_figure(name, part, **size)) for name, part in view.parts.items())
    if view.steps is None:
        return parts, ()
    labels_of = functools.partial(_sequence_labels, view)
    grid = figures.broadcast_figures(view, labels_of, **size)
    return parts, tuple(tuple(figures.FrozenFigure(fig) for fig in row) for row in grid)


def _sequence_labels(view: MaskBroadcast, b: int) -> list[str]:
    return [f"{i}·{token}" for i, token in enumerate(view.batch.tokens[b])]


@st.cache_resource(max_entries=128, show_spinner=False)
def drawn_figure(inputs: Inputs, look: Look, title: str, subtitle: str) -> figures.FrozenFigure:
    """The drawn mask (or an empty one the size of the sequences) to click on."""
    mask, labels = drawn_matrix(inputs)
    return figures.FrozenFigure(figures.drawn_mask_figure(mask, labels, title=title, subtitle=subtitle,
                                                          font_size=look.font_size, width=look.panel_width))


def drawn_matrix(inputs: Inputs) -> tuple[tuple[tuple[int, ...], ...], list[str]]:
    """The drawn mask and its axis labels: the tokens when it fits the sequence on view, else positions.

    With nothing drawn, an open mask (all 0) the size of the sequence on view.
    """
    labels = result(inputs).labels
    if not inputs.drawn:
        return tuple((0,) * len(labels) for _ in labels), labels
    mask = parse_compact_mask(inputs.drawn)
    return mask, labels if len(mask) == len(labels) else [str(i) for i in range(len(mask))]


@functools.cache
def source_of(function) -> str:
    """``inspect.getsource``, read once (it tokenizes the whole module: ~4 ms a call)."""
    return inspect.getsource(function)
