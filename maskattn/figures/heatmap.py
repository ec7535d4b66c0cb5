"""Honest heatmaps: every cell's true colour, masked cells outlined, special values labelled.

The rules (DESIGN.md, "Heatmaps must be honest and readable"):

- A masked cell keeps the colour of its value; that it is masked is shown by an outline
  drawn around the masked cells, not by colour. A leak (weight on a masked key) is
  therefore visible in the picture itself.
- Each panel's colour range comes from its finite, on-scale values. A value far beyond the
  unmasked ones (the −1e9 of a masked logit) is *off-scale*: it gets its own grey, its own
  legend entry and its value as text, so it never washes out the real logits. NaN, −inf
  and +inf have their own colours and legend entries too.
- Every cell shows its exact value on hover (shortest exact form in the compute dtype,
  with its query and key); numbers are printed in the cells only where they fit, all in
  one short format, never touching (``Geometry`` decides from the panel size and ``T``).
- The figure has a fixed size in pixels (``width`` or ``cell``), so a PNG saved from it,
  on any screen, is laid out the same.

>>> import numpy as np
>>> fig = heatmap(np.array([[1.0, -1e9], [0.5, 2.0]], np.float32), ["a", "b"], ["a", "b"],
...               title="masked logits", mask=np.array([[0, 1], [0, 0]]))
>>> fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax    # -1e9 is off-scale: not in the range
(-2.0, 2.0)
>>> [t.name for t in fig.data if t.showlegend]
['masked (outlined)', 'off-scale, e.g. -1e9']
"""

from __future__ import annotations

from dataclasses import dataclass
import hashlib
import html
import math

import numpy as np
import plotly.graph_objects as go

from ..alt import heatmap_alt
from ..text import fit, spell
from .base import _TEMPLATE, BASE_FONT, LOGIT_SCALE, WEIGHT_SCALE, _axis_labels, safe_label

#: special cells: overlay code -> (legend name, fill colour, text colour). Code 0 is an ordinary cell.
SPECIAL = {
    1: ("off-scale, e.g. -1e9", "#a9a9a9", "#000000"),
    2: ("off-scale (positive)", "#e3c79f", "#000000"),
    3: ("NaN", "#000000", "#ffffff"),
    4: ("-inf", "#5e3c99", "#ffffff"),
    5: ("inf", "#b35806", "#ffffff"),
}
#: a finite value is off-scale when it is this many times further from 0 than every unmasked value
OFF_SCALE_FACTOR = 4.0
#: the mask's two colours (mask panels only; other panels colour by value)
MASK_COLOURS = ("#ffffff", "#34495e")
#: the outline around masked cells: a dark line on a white casing, visible on any colour
OUTLINE_COLOUR, OUTLINE_WIDTH, CASING_WIDTH = "#111111", 2.2, 5.0
#: the selected query row
ROW_COLOUR, ROW_WIDTH = "#e7298a", 3.0
#: a masked cell whose weight is not exactly 0 (a leak) gets a red corner flag, so it reads at any size
LEAK_COLOUR, LEAK_NAME = "#e41a1c", "masked, weight > 0 (leak)"
#: up to this size a panel gets one invisible marker per cell, so a click picks the cell's row
MAX_CLICKABLE = 32
#: up to this size the hover carries the exact value as text (beyond it: the float32 value)
MAX_HOVER_TEXT = 64
#: up to this size a leaking masked cell gets its own flag (beyond it a flag is smaller than a pixel)
MAX_LEAK_FLAGS = 64
#: up to this size cells are drawn with a 1-px gap (beyond it the gaps would read as a texture)
MAX_CELLS_WITH_GAPS = 32
#: the width of a digit, a minus or a point, in ems of the figure font (conservative)
CHAR_EM = 0.62
#: a figure may be drawn narrower than designed (a phone): numbers must still fit at this share
SHRINK = 0.88
#: the default panel width on screen: two panels side by side at 1280 px with the sidebar open
PANEL_WIDTH = 392
#: axis labels longer than this are cut (the hover has them whole)
TICK_LABEL_CHARS = 12
#: a cell this wide prints a 4-character number ("0.27") at the screen's type size: panels grow towards it
NUMBER_CELL = 36
#: cell numbers carry their figure's designed width (to 8 px) in their font's name, so a page can hide them where
#: the figure is drawn narrower than SHRINK of it (a phone): they would touch (``width_font``, ``ui.figure_style``)
WIDTH_STEP = 8
FONT = '"Open Sans", verdana, arial, sans-serif'


def width_font(width: int) -> str:
    """The font of a panel's cell numbers, named after its width: ``cw392, "Open Sans", …`` (the name is no font)."""
    return f"cw{int(width) // WIDTH_STEP * WIDTH_STEP}, {FONT}"


@dataclass(frozen=True)
class Geometry:
    """How a ``rows x cols`` panel is laid out, in CSS pixels."""

    width: int
    height: int
    margin: dict
    cell: float             # cell width (cells are square unless the panel is very tall)
    cell_height: float
    text_chars: int         # the longest number a cell can print (0: none, values only on hover)
    text_size: int
    tick_size: int
    tick_step: int          # every tick_step-th label is shown
    legend_height: int = 0  # the legend's strip at the bottom of the figure


def geometry(rows: int, cols: int, *, x_labels, y_labels, font_size: int = BASE_FONT, width: int | None = None,
             cell: float | None = None, colorbar: bool = True, legend: tuple[str, ...] = (), subtitle: bool = False,
             title_lines: int = 1, max_height: int = 560) -> Geometry:
    """The layout of a panel: either its ``width`` is fixed (screen) or its ``cell`` size (publication).

    >>> g = geometry(6, 6, x_labels=["0·the"] * 6, y_labels=["0·the"] * 6, width=400)
    >>> round(g.cell), g.text_chars, g.tick_step
    (44, 5, 1)
    >>> geometry(256, 256, x_labels=["1"] * 256, y_labels=["1"] * 256, width=400).text_chars
    0
    """
    tick_size = max(9, font_size - 1 - (2 if max(rows, cols) > 32 else 0))
    char = CHAR_EM * tick_size
    label_chars = min(TICK_LABEL_CHARS, max([len(html.unescape(s)) for s in list(x_labels) + list(y_labels)] + [1]))
    title_h = 6 + 1.35 * (font_size + 3) * title_lines + (1.35 * (font_size - 2) + 4 if subtitle else 0)
    left = int(label_chars * char + 10 + 1.4 * font_size + 6)        # tick labels, then the axis title
    right = int(10 + 8 + 5 * CHAR_EM * (tick_size - 1) + 12) if colorbar else 14
    bottom = int(0.72 * label_chars * char + 0.72 * tick_size + 10 + 1.4 * font_size + 4)
    if cell is None:
        width = int(width or PANEL_WIDTH)
        cell = max((width - left - right) / cols, 0.5)
    else:
        width = int(round(left + right + cell * cols))
    # the legend starts at the figure's left edge and may run to the colour bar
    # the legend sits under the x axis: the plot's top is the same in every panel, so panels side by side
    # line up whatever their legends say
    legend_rows = _legend_rows(legend, width - right - 6, font_size) if legend else 0
    top = int(title_h + 8)
    legend_height = int(legend_rows * (font_size + 9) + (4 if legend_rows else 0))
    bottom += legend_height
    plot_h = min(cell * rows, max_height - top - bottom)
    cell_h = plot_h / rows
    # numbers: every cell gets the same budget; none below 3 characters (a lone digit misleads)
    text_size, text_chars = max(9, font_size - 2), 0
    for size in range(text_size, 8, -1):
        usable = min(cell, cell_h * 3) * SHRINK - 4
        chars = int(usable // (CHAR_EM * size))
        if chars >= 3 and cell_h * SHRINK >= size + 3:
            text_size, text_chars = size, min(chars, 7)
            break
    tick_step = max(1, math.ceil((tick_size * 1.25) / max(min(cell, cell_h), 1e-9)))
    margin = {"l": left, "r": right, "t": top, "b": bottom, "pad": 0, "autoexpand": False}
    return Geometry(width, int(round(top + plot_h + bottom)), margin, cell, cell_h, text_chars, text_size,
                    tick_size, tick_step, legend_height)


def room_width(rows: int, cols: int, *, x_labels, y_labels, base: int, room: int, **layout) -> int:
    """The width a panel takes: ``base`` while its cells are wide enough for numbers (``NUMBER_CELL``),
    else wider, up to ``room`` (the page's width: then one panel per row), so that a longer sequence
    still numbers its cells, or at least gets cells as big as the room allows.

    >>> labels = [f"{i}·w{i}" for i in range(12)]
    >>> room_width(6, 6, x_labels=labels[:6], y_labels=labels[:6], base=392, room=800)
    392
    >>> room_width(12, 12, x_labels=labels, y_labels=labels, base=392, room=800)
    574
    >>> room_width(64, 64, x_labels=["1"] * 64, y_labels=["1"] * 64, base=392, room=800)
    800
    """
    g = geometry(rows, cols, x_labels=x_labels, y_labels=y_labels, width=base, **layout)
    if g.cell >= NUMBER_CELL or room <= base:
        return base
    return int(min(room, base + math.ceil((NUMBER_CELL - g.cell) * cols)))


def _legend_rows(names, width: float, font_size: int) -> int:
    """How many rows a horizontal legend of ``names`` takes in ``width`` pixels: one, or (once it must
    wrap) one per entry, which is what Plotly does with a legend wider than its plot."""
    total = sum(40 + 0.5 * (font_size - 2) * len(name) for name in names)     # measured in Chromium
    return 1 if total <= width else len(names)


def special_codes(values: np.ndarray, mask=None, *, off_scale: bool = True) -> np.ndarray:
    """uint8 per cell: 0 ordinary, or a key of ``SPECIAL`` (off-scale low/high, NaN, -inf, inf).

    Off-scale means finite and more than ``OFF_SCALE_FACTOR`` times further from 0 than every
    unmasked finite value (every finite value, when all are masked).

    >>> special_codes(np.array([[1.0, -1e9, np.nan], [2.0, -3.0, -np.inf]]), np.array([[0, 1, 0], [0, 1, 0]])).tolist()
    [[0, 1, 3], [0, 0, 4]]
    """
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    codes = np.zeros(v.shape, dtype=np.uint8)
    if off_scale:
        reference = finite if mask is None else finite & (np.asarray(mask) != 1)
        if not reference.any():
            reference = finite
        scale = float(np.abs(v[reference]).max()) if reference.any() else 0.0
        far = finite & (np.abs(v) > OFF_SCALE_FACTOR * max(scale, 1e-30))
        codes[far & (v < 0)] = 1
        codes[far & (v > 0)] = 2
    codes[np.isnan(v)] = 3
    codes[np.isneginf(v)] = 4
    codes[np.isposinf(v)] = 5
    return codes


def colour_range(values, codes: np.ndarray, *, symmetric: bool = False) -> tuple[float, float]:
    """(min, max) over the ordinary cells (masked ones included: they keep their colour).

    >>> v = np.array([[3.0, -1e9], [np.nan, -2.0]])
    >>> colour_range(v, special_codes(v, np.array([[0, 1], [0, 0]])))
    (-2.0, 3.0)
    >>> colour_range(np.array([1.0, -3.0]), np.zeros(2, np.uint8), symmetric=True)
    (-3.0, 3.0)
    """
    v = np.asarray(values, dtype=np.float64)
    keep = codes == 0
    if not keep.any():
        return (-1.0, 1.0)
    lo, hi = float(v[keep].min()), float(v[keep].max())
    if symmetric:
        lo, hi = -max(abs(lo), abs(hi)), max(abs(lo), abs(hi))
    if lo == hi:
        lo, hi = lo - 1.0, hi + 1.0
    return lo, hi


def outline_path(mask) -> str:
    """An SVG path (in cell coordinates) around every masked cell: the edges between masked and open cells.

    Cell ``(r, c)`` spans ``c ± 0.5`` across and ``r ± 0.5`` down (the axes' own index coordinates).

    >>> outline_path(np.array([[0, 1], [0, 1]]))
    'M0.5,-0.5H1.5M0.5,1.5H1.5M0.5,-0.5V1.5M1.5,-0.5V1.5'
    """
    m = np.asarray(mask) == 1
    rows, cols = m.shape
    padded = np.pad(m, 1)                                           # (rows + 2, cols + 2), False around
    parts = []
    # horizontal edges: between row r-1 and r (r = 0..rows), merged into runs along each line
    for r in range(rows + 1):
        edge = padded[r, 1:-1] != padded[r + 1, 1:-1]               # (cols,)
        for start, stop in _runs(edge):
            parts.append(f"M{start - 0.5:g},{r - 0.5:g}H{stop - 0.5:g}")
    for c in range(cols + 1):
        edge = padded[1:-1, c] != padded[1:-1, c + 1]               # (rows,)
        for start, stop in _runs(edge):
            parts.append(f"M{c - 0.5:g},{start - 0.5:g}V{stop - 0.5:g}")
    return "".join(parts)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    out, start = [], None
    for i, f in enumerate(list(flags) + [False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((start, i))
            start = None
    return out


def corner_flags(cells: np.ndarray) -> str:
    """An SVG path of small triangles in the top-right corner of every True cell (cell coordinates).

    >>> corner_flags(np.array([[False, True]]))
    'M1.12,-0.48L1.48,-0.48L1.48,-0.12Z'
    """
    parts = []
    for r, c in zip(*np.nonzero(cells)):
        parts.append(f"M{c + 0.12:g},{r - 0.48:g}L{c + 0.48:g},{r - 0.48:g}L{c + 0.48:g},{r - 0.12:g}Z")
    return "".join(parts)


def row_outline(row: int, cols: int) -> list[dict]:
    """Layout shapes that outline query row ``row`` of a panel with ``cols`` columns (the inspector's row)."""
    rect = dict(type="rect", xref="x", yref="y", x0=-0.5, x1=cols - 0.5, y0=row - 0.5, y1=row + 0.5,
                fillcolor="rgba(0,0,0,0)", layer="above")
    return [rect | {"line": {"color": "#ffffff", "width": ROW_WIDTH + 2.5}},
            rect | {"line": {"color": ROW_COLOUR, "width": ROW_WIDTH}}]


def _cell_texts(values: np.ndarray, codes: np.ndarray, chars: int, dtype: str) -> list[list[str]]:
    """The printed number of each cell, all within ``chars`` characters ('' where none fits)."""
    rows, cols = values.shape
    out = []
    for r in range(rows):
        line = []
        for c in range(cols):
            v = values[r, c]
            line.append(fit(v, chars, dtype) or "")
        out.append(line)
    return out


def _hover_texts(values: np.ndarray, mask, dtype: str) -> list[list[str]]:
    """Each cell's exact value in ``dtype`` (shortest exact form), and whether it is masked."""
    m = np.zeros(values.shape, bool) if mask is None else np.asarray(mask) == 1
    return [[spell(values[r, c], dtype) + (" · masked" if m[r, c] else "") for c in range(values.shape[1])]
            for r in range(values.shape[0])]


def _fingerprint(values: np.ndarray, mask) -> str:
    """A short digest of the values (with their dtype and shape) and the mask.

    >>> _fingerprint(np.zeros((2, 2), np.float32), None) == _fingerprint(np.zeros((2, 2), np.float32), None)
    True
    """
    digest = hashlib.blake2b(digest_size=8)
    digest.update(f"{values.dtype}{values.shape}".encode())
    digest.update(np.ascontiguousarray(values).tobytes())
    if mask is not None:
        digest.update(np.packbits(np.asarray(mask, bool)).tobytes())
    return digest.hexdigest()


def _legend_entry(name: str, colour: str) -> dict:
    return dict(type="scatter", x=[None], y=[None], mode="markers", name=name, showlegend=True, hoverinfo="skip",
                marker={"symbol": "square", "size": 12, "color": colour, "line": {"color": "#666666", "width": 1}})


def _outline_entry() -> dict:
    return dict(type="scatter", x=[None], y=[None], mode="lines", name="masked (outlined)", showlegend=True,
                hoverinfo="skip", line={"color": OUTLINE_COLOUR, "width": OUTLINE_WIDTH})


def heatmap(values, x_labels, y_labels, *, title: str, subtitle: str = "", mask=None, kind: str = "scores",
            dtype: str | None = None, zrange: tuple[float, float] | None = None, font_size: int = BASE_FONT,
            width: int | None = None, cell: float | None = None, clickable: bool = False, x_title: str = "key",
            y_title: str = "query", scale=None, colorbar: bool = True, cell_text=None,
            ) -> go.Figure:
    """A labelled, honest heatmap of a ``(rows, cols)`` matrix.

    values: ``(Tq, Tk)`` array in the compute dtype; x_labels: Tk names; y_labels: Tq names.
    mask: optional ``(Tq, Tk)`` 0/1, 1 = blocked: masked cells are outlined (and keep their colour).
    kind: ``"scores"`` (diverging, symmetric, off-scale values set apart), ``"weights"`` (0..1,
    cividis), ``"values"`` (diverging, no masking story), ``"mask"`` (0 / 1) or ``"term"`` (the
    mask term: 0, the constant, NaN, −inf — a few values, coloured by what they are).
    dtype: the compute dtype, for the exact hover text (default: the array's own).
    width / cell: the figure's width, or the size of a cell (publication); font_size: all text.
    clickable: one invisible marker per cell (up to ``MAX_CLICKABLE``), so a click selects its row;
    it also carries the hover, so hover and click work together.
    colorbar: False for small multiples that share one scale (explained once, beside them).
    cell_text: optional ``(rows, cols)`` strings printed (and hovered) instead of the values, e.g. a
    framework's literal ``True`` / ``-inf``; printed only when every one of them fits its cell.
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D matrix, got shape {values.shape}")
    if kind not in ("scores", "weights", "values", "mask", "term"):
        raise ValueError(f"kind must be scores, weights, values, mask or term, got {kind!r}")
    rows, cols = values.shape
    x, y = _axis_labels(rows, cols, x_labels, y_labels)
    if "<br>" in title:          # Plotly draws a multi-line title upwards, out of the figure: use the subtitle
        title, rest = title.split("<br>", 1)
        subtitle = rest.replace("<br>", " · ") + (f" · {subtitle}" if subtitle else "")
    dtype = dtype or ("float64" if values.dtype == np.float64 else "float32")
    wide = values.astype(np.float64)                                 # exact for every dtype
    mask = None if mask is None else (np.asarray(mask) == 1)
    has_masked = mask is not None and bool(mask.any())
    categorical = kind in ("mask", "term")

    codes = special_codes(wide, mask, off_scale=kind in ("scores", "values"))
    present = sorted(int(c) for c in np.unique(codes) if c)
    leaks = (mask & (np.nan_to_num(wide, nan=0.0) != 0)) if has_masked and kind == "weights" else None
    has_leaks = leaks is not None and bool(leaks.any()) and max(rows, cols) <= MAX_LEAK_FLAGS
    legend = (("masked (outlined)",) if has_masked else ()) + ((LEAK_NAME,) if has_leaks else ()) + tuple(
        SPECIAL[code][0] for code in present if not categorical or code >= 3)
    # categorical panels keep the colour bar's room: every stage panel then has the same grid of cells
    g = geometry(rows, cols, x_labels=x, y_labels=y, font_size=font_size, width=width, cell=cell,
                 colorbar=colorbar, legend=legend, subtitle=bool(subtitle))
    gap = 1 if max(rows, cols) <= MAX_CELLS_WITH_GAPS else 0
    texts = _cell_texts(wide, codes, g.text_chars, dtype) if g.text_chars else None
    if cell_text is not None:
        if len(cell_text) != rows or any(len(line) != cols for line in cell_text):
            raise ValueError(f"cell_text must be {rows} rows of {cols} strings")
        cell_text = [[str(t) for t in line] for line in cell_text]
        fits = max(len(t) for line in cell_text for t in line) <= g.text_chars
        texts = cell_text if fits else None
    special_cells = codes >= (3 if categorical else 1)
    hover = _hover_texts(wide, mask, dtype) if max(rows, cols) <= MAX_HOVER_TEXT else None
    if cell_text is not None and hover is not None:
        hover = [[cell_text[r][c] for c in range(cols)] for r in range(rows)]
    traces = []

    if categorical:
        # a few distinct values, each its own colour: 0 white, blocked / the constant dark, NaN, -inf
        z = np.where(codes >= 3, np.nan, (wide != 0).astype(np.float64))
        main = dict(type="heatmap", z=z.astype(np.float32), x=x, y=y, zmin=0.0, zmax=1.0, showscale=False,
                    colorscale=[[0.0, MASK_COLOURS[0]], [1.0, MASK_COLOURS[1]]], xgap=gap, ygap=gap, name=title)
        lo, hi = 0.0, 1.0
    else:
        lo, hi = zrange if zrange is not None else colour_range(wide, codes, symmetric=kind != "weights")
        z = np.where(codes == 0, wide, np.nan).astype(np.float64 if dtype == "float64" else np.float32)
        main = dict(type="heatmap", z=z, x=x, y=y, coloraxis="coloraxis", xgap=gap, ygap=gap, name=title)
    if texts is not None:
        # special cells print their value on their own layer (drawn once: never two numbers in one cell)
        main.update(text=[[("" if special_cells[r, c] else t) for c, t in enumerate(line)]
                          for r, line in enumerate(texts)], texttemplate="%{text}", textfont={"size": g.text_size, "family": width_font(g.width)})
    if clickable and max(rows, cols) <= MAX_CLICKABLE:
        main["hoverinfo"] = "skip"
    elif hover is not None:
        main.update(hovertext=hover, hovertemplate="query %{y}<br>key %{x}<br>%{hovertext}<extra></extra>")
    else:
        main["hovertemplate"] = "query %{y}<br>key %{x}<br>%{z}<extra></extra>"
    traces.append(main)

    if special_cells.any():
        # NaN / ±inf / off-scale cells: their own colours, their value as text; hover passes through
        n = len(SPECIAL)
        scale_stops = [[0.0, "rgba(0,0,0,0)"], [0.5 / n, "rgba(0,0,0,0)"]]
        for code in range(1, n + 1):
            colour = SPECIAL[code][1]
            scale_stops += [[(code - 0.5) / n, colour], [min(1.0, (code + 0.5) / n), colour]]
        overlay = dict(type="heatmap", z=np.where(special_cells, codes, 0).astype(np.uint8), x=x, y=y, zmin=0,
                       zmax=n, colorscale=scale_stops, showscale=False, hoverinfo="skip", xgap=gap, ygap=gap,
                       name="special values")
        if texts is not None:
            overlay.update(text=[[t if special_cells[r, c] else "" for c, t in enumerate(line)]
                                 for r, line in enumerate(texts)],
                           texttemplate="%{text}", textfont={"size": g.text_size, "family": width_font(g.width)})
        traces.append(overlay)

    if clickable and max(rows, cols) <= MAX_CLICKABLE:
        # one invisible marker per cell: a click on any cell reaches Python, and it carries the hover
        traces.append(dict(
            type="scatter", x=[x[c] for r in range(rows) for c in range(cols)],
            y=[y[r] for r in range(rows) for c in range(cols)], mode="markers",
            marker={"symbol": "square", "size": max(6, int(min(g.cell, g.cell_height))), "opacity": 0.01,
                    "color": "#000000"},
            text=[hover[r][c] for r in range(rows) for c in range(cols)],
            hovertemplate="query %{y}<br>key %{x}<br>%{text}<extra></extra>", showlegend=False,
            name="select a row"))

    shapes, annotations = [], []
    if has_masked:
        path = outline_path(mask)
        shapes += [dict(type="path", path=path, xref="x", yref="y", layer="above",
                        line={"color": "#ffffff", "width": CASING_WIDTH}),
                   dict(type="path", path=path, xref="x", yref="y", layer="above",
                        line={"color": OUTLINE_COLOUR, "width": OUTLINE_WIDTH})]
        traces.append(_outline_entry())
    if has_leaks:
        shapes.append(dict(type="path", path=corner_flags(leaks), xref="x", yref="y", layer="above",
                           fillcolor=LEAK_COLOUR, line={"color": "#ffffff", "width": 0.8}))
        traces.append(dict(type="scatter", x=[None], y=[None], mode="markers", name=LEAK_NAME, showlegend=True,
                           hoverinfo="skip", marker={"symbol": "triangle-ne", "size": 11, "color": LEAK_COLOUR}))
    for code in present:
        if not categorical or code >= 3:
            traces.append(_legend_entry(SPECIAL[code][0], SPECIAL[code][1]))
    if kind == "mask" and not has_masked and max(rows, cols) > MAX_CELLS_WITH_GAPS:
        annotations.append(dict(text="no cell is blocked", xref="paper", yref="paper", x=0.5, y=0.5,
                                showarrow=False, font={"size": font_size + 2, "color": "#555555"}))

    ticks = {"tickfont": {"size": g.tick_size}, "type": "category", "automargin": False,
             "showgrid": False, "zeroline": False}
    x_ticks = [safe_label(s, TICK_LABEL_CHARS) for s in x_labels]
    y_ticks = [safe_label(s, TICK_LABEL_CHARS) for s in y_labels]
    # axis titles as annotations at the figure's edges: Plotly would place them over the tick labels
    annotations += [dict(text=y_title, xref="paper", x=0, xanchor="left", xshift=-g.margin["l"] + 2, yref="paper",
                         y=0.5, textangle=-90, showarrow=False, font={"size": font_size}),
                    dict(text=x_title + (" · too small for numbers: hover"
                                         if not g.text_chars and kind != "mask" else ""),
                         xref="paper", x=0.5, yref="paper", y=0, yanchor="bottom",
                         yshift=-g.margin["b"] + g.legend_height + 2, showarrow=False, font={"size": font_size})]
    xaxis = ticks | {"side": "bottom",
                     "tickangle": -45, "range": [-0.5, cols - 0.5],
                     "tickvals": x[:: g.tick_step], "ticktext": x_ticks[:: g.tick_step]}
    yaxis = ticks | {"range": [rows - 0.5, -0.5], "tickvals": y[:: g.tick_step], "ticktext": y_ticks[:: g.tick_step]}
    title_spec = {"text": title, "font": {"size": font_size + 3}, "x": 0, "xanchor": "left", "xref": "container",
                  "y": 1, "yanchor": "top", "yref": "container", "pad": {"t": 6, "l": 6}}
    if subtitle:
        title_spec["subtitle"] = {"text": subtitle, "font": {"size": font_size - 2, "color": "#555555"}}
    layout = dict(
        title=title_spec,
        xaxis=xaxis, yaxis=yaxis, margin=g.margin, width=g.width, height=g.height, font={"size": font_size},
        plot_bgcolor="#f2f2f2", dragmode=False, template=_TEMPLATE, shapes=shapes, annotations=annotations,
        hovermode="closest", hoverdistance=-1 if clickable else 20, showlegend=bool(legend),
        # the chart's accessible name, built from its own numbers (ui.chart passes it to st.plotly_chart(alt=))
        meta={"alt": heatmap_alt(title, subtitle, values.astype(np.float64), list(x_labels), list(y_labels),
                                 mask=mask, kind=kind, dtype=dtype or "float64")},
        # the data's fingerprint: a figure that differs only in its layout (the selected row's outline)
        # keeps it, so the browser's Plotly.react redraws the shapes and never recomputes the heatmap
        datarevision=_fingerprint(values, mask),
        # x: a paper-anchored legend moved to the figure's left edge (a container-anchored horizontal legend
        # stacks its entries vertically in Plotly 7); y: at the figure's bottom, under the axis title
        legend={"orientation": "h", "x": -(g.margin["l"] - 6) / max(g.width - g.margin["l"] - g.margin["r"], 1),
                "xanchor": "left", "y": 0, "yref": "container", "yanchor": "bottom",
                "font": {"size": max(9, font_size - 2)}, "itemclick": False, "itemdoubleclick": False,
                "bgcolor": "rgba(255,255,255,0)", "tracegroupgap": 0, "itemwidth": 30},
    )
    if not categorical:
        layout["coloraxis"] = {
            "colorscale": scale or (WEIGHT_SCALE if kind == "weights" else LOGIT_SCALE), "cmin": lo, "cmax": hi,
            "colorbar": {"thickness": 10, "len": 1.0, "lenmode": "fraction", "x": 1.0, "xpad": 6, "ypad": 0,
                         "tickfont": {"size": g.tick_size - 1}, "nticks": 5, "outlinewidth": 0}}
        if kind != "weights":
            layout["coloraxis"]["cmid"] = 0.0
        if not colorbar:
            layout["coloraxis"]["showscale"] = False
    # built without Plotly's per-property validation (~6 ms a panel, 300 ms at T = 64 with hover text);
    # tests/test_figures.py validates every builder's output in full instead
    return go.Figure({"data": traces, "layout": layout}, _validate=False)
