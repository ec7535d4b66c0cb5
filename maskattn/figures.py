"""Plotly figure builders: arrays and labels in, ``go.Figure`` out, never rendered here.

Honest heatmaps: each panel gets its own colour range from its real values, so a
-1e9 cell never washes out the logits; masked cells and NaN / ±inf cells are
drawn by an overlay layer in their own colours and, when the matrix is small,
labelled with text; the exact value (in the compute dtype) is in the hover.
Arrays go to Plotly as float32 (float64 only when the dtype is float64) and the
overlay as uint8, so a 256 x 256 panel costs about 5 bytes per cell.

>>> import numpy as np
>>> fig = heatmap(np.array([[1.0, -1e9], [0.5, 2.0]], np.float32), ["a", "b"], ["a", "b"],
...               title="masked logits", mask=np.array([[0, 1], [0, 0]]))
>>> fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax    # -1e9 is left out of the range
(0.5, 2.0)
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go

from .explain import fmt

#: colour-blind-safe scales: a blue-red diverging scale for scores, cividis for weights
LOGIT_SCALE = "RdBu_r"
WEIGHT_SCALE = "Cividis"
#: overlay codes and their colours (0 is transparent)
OVERLAY = {"masked": (1, "#c9c9c9"), "nan": (2, "#1b1b1b"), "-inf": (3, "#4a2a6a"), "inf": (4, "#7a3b00")}
OVERLAY_GLYPH = {1: "", 2: "NaN", 3: "−∞", 4: "+∞"}
#: matrices up to this size get their values printed in the cells
MAX_CELLS_WITH_TEXT = 12
#: up to this size NaN / ±inf cells still get their glyph (so they are not told by colour alone)
MAX_CELLS_WITH_GLYPHS = 64
#: matrices up to this size get a clickable layer (one invisible marker per cell)
MAX_CLICKABLE = 32
#: matrices up to this size get 1-px gaps between cells; above it a cell is ~1 px wide, a gap
#: would hide it, and Plotly's per-cell drawing with gaps costs seconds in the browser at 256 x 256
MAX_CELLS_WITH_GAPS = 64
BASE_FONT = 13
#: presentation mode: readable from the back of a classroom
PRESENTATION_FONT = 20
#: the parts of Plotly's default "plotly" template these figures use. The full template adds
#: 6.5 KB to every figure sent to the browser and is deep-copied by st.plotly_chart on every
#: rerun (~10 ms per figure on 2 cores); this subset draws the same pixels.
_AXIS_STYLE = {"gridcolor": "white", "linecolor": "white", "ticks": "", "title": {"standoff": 15},
               "zerolinecolor": "white", "automargin": True, "zerolinewidth": 2}
TEMPLATE = {
    "layout": {"font": {"color": "#2a3f5f"}, "paper_bgcolor": "white", "plot_bgcolor": "#E5ECF6",
               "xaxis": _AXIS_STYLE, "yaxis": _AXIS_STYLE, "hoverlabel": {"align": "left"},
               "hovermode": "closest", "title": {"x": 0.05}, "autotypenumbers": "strict",
               "coloraxis": {"colorbar": {"outlinewidth": 0, "ticks": ""}},
               "colorway": ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692",
                            "#B6E880", "#FF97FF", "#FECB52"]},
    "data": {"heatmap": [{"colorbar": {"outlinewidth": 0, "ticks": ""}}],
             "bar": [{"error_x": {"color": "#2a3f5f"}, "error_y": {"color": "#2a3f5f"},
                      "marker": {"line": {"color": "#E5ECF6", "width": 0.5},
                                 "pattern": {"fillmode": "overlay", "size": 10, "solidity": 0.2}}}]},
}

#: validated once: Plotly re-validates a template given as a dict in every figure (~1.5 ms each)
_TEMPLATE = go.layout.Template(TEMPLATE)


def safe_label(text: str, limit: int = 24) -> str:
    """User text for a Plotly label: HTML-escaped (Plotly renders some tags) and shortened.

    >>> safe_label("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/scrip…'
    """
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return html.escape(text, quote=False)


def _axis_labels(rows: int, cols: int, x_labels, y_labels) -> tuple[list[str], list[str]]:
    """Checked, escaped tick labels for a ``rows x cols`` matrix."""
    if len(y_labels) != rows or len(x_labels) != cols:
        raise ValueError(f"{rows}x{cols} matrix needs {rows} row and {cols} column labels, "
                         f"got {len(y_labels)} and {len(x_labels)}")
    return [safe_label(s) for s in x_labels], [safe_label(s) for s in y_labels]


def _plot_dtype(values: np.ndarray) -> np.dtype:
    """float64 only when the values are float64; everything narrower is exact in float32."""
    return np.dtype(np.float64) if values.dtype == np.float64 else np.dtype(np.float32)


def _overlay_codes(values: np.ndarray, mask) -> np.ndarray:
    """uint8 per cell: 0 plain, 1 masked, 2 NaN, 3 -inf, 4 +inf (non-finite wins)."""
    codes = np.zeros(values.shape, dtype=np.uint8)
    if mask is not None:
        codes[np.asarray(mask) == 1] = OVERLAY["masked"][0]
    codes[np.isnan(values)] = OVERLAY["nan"][0]
    codes[np.isneginf(values)] = OVERLAY["-inf"][0]
    codes[np.isposinf(values)] = OVERLAY["inf"][0]
    return codes


def colour_range(values, mask=None, *, symmetric: bool = False) -> tuple[float, float]:
    """(min, max) over the finite, unmasked cells, widened when they are all equal.

    >>> colour_range(np.array([[3.0, -1e9], [np.nan, -2.0]]), np.array([[0, 1], [0, 0]]))
    (-2.0, 3.0)
    >>> colour_range(np.array([1.0, -3.0]), symmetric=True)
    (-3.0, 3.0)
    """
    v = np.asarray(values).astype(np.float64)
    keep = np.isfinite(v)
    if mask is not None:
        keep &= np.asarray(mask) != 1
    if not keep.any():
        return (-1.0, 1.0)
    lo, hi = float(v[keep].min()), float(v[keep].max())
    if symmetric:
        lo, hi = -max(abs(lo), abs(hi)), max(abs(lo), abs(hi))
    if lo == hi:
        lo, hi = lo - 1.0, hi + 1.0
    return lo, hi


def _overlay_scale() -> list:
    """A stepped colour scale for the overlay codes 0..4 (0 transparent)."""
    colours = ["rgba(0,0,0,0)"] + [colour for _, colour in sorted(OVERLAY.values())]
    stops = []
    for code, colour in enumerate(colours):
        stops += [[max(0.0, (code - 0.5) / 4), colour], [min(1.0, (code + 0.5) / 4), colour]]
    return stops


def _cell_text(values: np.ndarray, codes: np.ndarray, digits: int) -> list[list[str]]:
    rows = []
    for r in range(values.shape[0]):
        row = []
        for c in range(values.shape[1]):
            glyph = OVERLAY_GLYPH.get(int(codes[r, c]), "")
            row.append(glyph or fmt(values[r, c], digits))
        rows.append(row)
    return rows


def heatmap(values, x_labels, y_labels, *, title: str, mask=None, scale: str = LOGIT_SCALE,
            zrange: tuple[float, float] | None = None, symmetric: bool = False, digits: int = 3,
            clickable: bool = False, font_size: int = BASE_FONT, height: int | None = None,
            x_title: str = "key", y_title: str = "query", colorbar: bool = True) -> go.Figure:
    """A labelled heatmap of a ``(rows, cols)`` matrix.

    values: ``(Tq, Tk)`` array in the compute dtype; x_labels: Tk names; y_labels: Tq names.
    mask: optional ``(Tq, Tk)`` 0/1, 1 = blocked (drawn grey and left out of the colour range).
    zrange: a fixed colour range (e.g. (0, 1) for weights); otherwise ``colour_range``.
    clickable: add an invisible marker per cell so a click selects a row (small matrices only).
    colorbar: draw the colour bar (off for the mask, whose two colours explain themselves).
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D matrix, got shape {values.shape}")
    rows, cols = values.shape
    x, y = _axis_labels(rows, cols, x_labels, y_labels)
    z = values.astype(_plot_dtype(values))
    wide = z.astype(np.float64)
    codes = _overlay_codes(wide, mask)
    lo, hi = zrange if zrange is not None else colour_range(wide, mask, symmetric=symmetric)
    show_text = max(rows, cols) <= MAX_CELLS_WITH_TEXT
    gap = 1 if max(rows, cols) <= MAX_CELLS_WITH_GAPS else 0

    # Build plain dicts and construct the figure once: Plotly validates the whole spec in
    # one pass (~2 ms), whereas fig.update(...) / update_layout(...) walk the property
    # tree per key (~35 ms per heatmap on 2 cores; see benchmarks/README.md).
    main = dict(type="heatmap", z=z, x=x, y=y, coloraxis="coloraxis", xgap=gap, ygap=gap,
                hovertemplate="query %{y}<br>key %{x}<br>value %{z}<extra></extra>", name=title)
    text = _cell_text(wide, codes, digits) if show_text else None
    # cells of a 6-token panel in a third of the page are ~35 px wide: shrink the numbers with the cells
    cell_font = font_size if max(rows, cols) <= 4 else max(9, font_size - 3)
    if show_text:
        main.update(text=text, texttemplate="%{text}", textfont={"size": cell_font})
    traces = [main]

    if codes.any():
        # the overlay paints masked / non-finite cells; hover passes through to the values
        overlay = dict(type="heatmap", z=codes, x=x, y=y, zmin=0, zmax=4, colorscale=_overlay_scale(),
                       showscale=False, hoverinfo="skip", xgap=gap, ygap=gap, name="masked / non-finite")
        if show_text:
            marked = [[t if codes[r, c] else "" for c, t in enumerate(row)] for r, row in enumerate(text)]
            overlay.update(text=marked, texttemplate="%{text}", textfont={"size": cell_font})
        elif max(rows, cols) <= MAX_CELLS_WITH_GLYPHS and (codes >= 2).any():
            glyphs = [[OVERLAY_GLYPH.get(int(code), "") for code in row] for row in codes]
            overlay.update(text=glyphs, texttemplate="%{text}", textfont={"size": max(8, font_size - 4)})
        traces.append(overlay)

    if clickable and max(rows, cols) <= MAX_CLICKABLE:
        xs = [x[c] for r in range(rows) for c in range(cols)]
        ys = [y[r] for r in range(rows) for c in range(cols)]
        traces.append(dict(
            type="scatter", x=xs, y=ys, mode="markers",
            marker={"symbol": "square", "size": 18, "opacity": 0.01},
            hoverinfo="none", showlegend=False, name="select a row",
        ))

    coloraxis = {"colorscale": scale, "cmin": lo, "cmax": hi,
                 "colorbar": {"thickness": 12, "len": 0.9, "tickfont": {"size": font_size - 2}}}
    if not colorbar:
        coloraxis["showscale"] = False
    if symmetric:
        coloraxis["cmid"] = 0.0
    layout = dict(
        title={"text": title, "font": {"size": font_size + 3}},
        coloraxis=coloraxis,
        xaxis={"title": {"text": x_title}, "type": "category", "side": "bottom", "tickangle": -45,
               "tickfont": {"size": font_size - 1}, "showticklabels": cols <= 64, "automargin": True},
        yaxis={"title": {"text": y_title}, "type": "category", "autorange": "reversed",
               "tickfont": {"size": font_size - 1}, "showticklabels": rows <= 64, "automargin": True},
        margin={"l": 10, "r": 10, "t": 50, "b": 10}, font={"size": font_size},
        plot_bgcolor="white", height=height or _height(rows, font_size), dragmode=False,
        template=_TEMPLATE,
    )
    return go.Figure({"data": traces, "layout": layout})


def _height(rows: int, font_size: int) -> int:
    return int(min(900, max(320, 140 + rows * max(22, font_size * 2))))


def mask_figure(mask, x_labels, y_labels, *, title: str = "mask (1 = blocked)",
                font_size: int = BASE_FONT) -> go.Figure:
    """The mask itself: blocked cells dark with "1", allowed cells white with "0"."""
    mask = np.asarray(mask, dtype=np.float32)
    return heatmap(mask, x_labels, y_labels, title=title, zrange=(0.0, 1.0), digits=1, font_size=font_size,
                   scale=[[0.0, "#ffffff"], [1.0, "#34495e"]], colorbar=False)


def output_figure(output, y_labels, *, title: str = "output = weights @ v",
                  font_size: int = BASE_FONT) -> go.Figure:
    """``(Tq, dv)`` outputs: one row per query, one column per value dimension."""
    output = np.asarray(output)
    columns = [f"v{i}" for i in range(output.shape[-1])]
    return heatmap(output, columns, y_labels, title=title, symmetric=True, digits=2, font_size=font_size,
                   x_title="value dimension")


def weights_bar_figure(labels, unmasked, masked, *, title: str, font_size: int = BASE_FONT) -> go.Figure:
    """A query row's weights without the mask and with it, side by side per key."""
    x = [safe_label(s) for s in labels]
    bars = [dict(type="bar", x=x, y=np.asarray(unmasked).astype(np.float64), name="without the mask",
                 marker={"color": "#8da0cb"}, hovertemplate="key %{x}<br>weight %{y}<extra>without</extra>"),
            dict(type="bar", x=x, y=np.asarray(masked).astype(np.float64), name="with the mask",
                 marker={"color": "#1b3a5c"}, hovertemplate="key %{x}<br>weight %{y}<extra>with</extra>")]
    layout = dict(title={"text": title}, barmode="group", yaxis={"title": {"text": "weight"}},
                  xaxis={"title": {"text": "key"}, "type": "category"}, font={"size": font_size},
                  legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
                  margin={"l": 10, "r": 10, "t": 60, "b": 10}, height=340, plot_bgcolor="white",
                  template=_TEMPLATE)
    return go.Figure({"data": bars, "layout": layout})   # one validation pass (see heatmap)


class FrozenFigure(go.Figure):
    """A figure that is never changed after it is built, so its dict is made once.

    ``st.plotly_chart`` calls ``to_dict()`` on every rerun: a deep copy of the whole figure with
    every array re-encoded as base64 (about 1 ms per figure at T = 16, 2 ms at T = 256). The
    app caches its figures, shares them between sessions and never mutates them, so the first
    dict serves every later rerun. Its traces hold that JSON form (arrays as base64 typed arrays, as the
    browser receives them). Never change one in place: build a new figure instead.

    >>> frozen = FrozenFigure(go.Figure({"data": [{"type": "bar", "y": [1, 2]}]}))
    >>> frozen.to_dict()["data"][0]["y"]
    [1, 2]
    """

    def __init__(self, figure: go.Figure):
        spec = figure.to_dict()
        super().__init__(spec, _validate=False)            # validated when ``figure`` was built
        self._frozen_spec = spec

    def to_dict(self) -> dict:
        return dict(self._frozen_spec)                     # a new top level; the rest is shared, read-only


def export_config(filename: str, *, scale: int = 3) -> dict:
    """``st.plotly_chart`` config: a camera button that saves a high-resolution PNG.

    >>> export_config("weights")["toImageButtonOptions"]["filename"]
    'weights'
    """
    name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in filename)[:80] or "figure"
    return {"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": name, "scale": scale},
            "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"]}


# --------------------------------------------------------------------------- the mask-constant lab

#: one colour-blind-safe colour (Okabe-Ito) and marker per dtype, used by every lab figure
DTYPE_STYLE = {
    "float16": ("#E69F00", "circle"),
    "bfloat16": ("#009E73", "diamond"),
    "float32": ("#0072B2", "square"),
    "float64": ("#CC79A7", "triangle-up"),
}
#: how many decades the "exactly 0" and "NaN" lanes sit below / above the real values
_LANE_GAP_DECADES = 2
#: spacing of the per-dtype lanes inside the "exactly 0" and "NaN" bands, in decades
_LANE_STEP = 0.45
#: the "exactly 0" lanes never go below 1e-300 (float64's subnormals end near 1e-324)
_LOWEST_DECADE = -300
_LAB_TEMPLATE = {"layout": {"font": {"color": "#2a3f5f"}, "hovermode": "closest",
                            "hoverlabel": {"align": "left"}}}


def _magnitude_x(constants: np.ndarray, inf_x: float) -> np.ndarray:
    """|constant| for a log axis; -inf goes to ``inf_x`` (its own tick, right of the grid)."""
    x = np.abs(np.asarray(constants, dtype=np.float64))
    return np.where(np.isinf(x), inf_x, x)


def leaked_mass_figure(constants, leaked: dict, *, current: float | None = None, current_leaked: dict | None = None,
                       underflow: dict | None = None, overflow: dict | None = None, title: str = "",
                       max_decade: int | None = None, font_size: int = BASE_FONT, height: int = 540) -> go.Figure:
    """Leaked mass versus the (negative) mask constant, log-log, one line per dtype.

    constants: ``(N,)`` negative constants (``-inf`` allowed: drawn at its own "−∞" tick).
    leaked: dtype name -> ``(N,)`` leaked mass. Exact zeros are not dropped: they sit on an
    "exactly 0" lane under the curves; NaN sits on a "NaN" lane above them (one lane per dtype).
    current / current_leaked: the user's constant and its leaked mass per dtype (highlighted).
    underflow / overflow: dtype -> constant where exp underflows / the constant overflows
    (vertical dotted / dashed markers; NaN or None skipped).
    max_decade: zoom the x axis to -1 .. -10**max_decade (None: the whole grid and −∞).

    x and y are float64: they span 1e-300 .. 1e41, beyond float32.

    >>> fig = leaked_mass_figure(np.array([-1.0, -1e9, -np.inf]), {"float32": np.array([0.1, 0.0, np.nan])})
    >>> [t.name for t in fig.data]
    ['float32', 'float32: exactly 0', 'float32: NaN']
    >>> fig.data[1].x.tolist(), fig.data[2].x.tolist()     # -inf sits right of the grid, on its own tick
    ([1000000000.0], [1000000000000.0])
    """
    constants = np.asarray(constants, dtype=np.float64)              # (N,)
    finite = np.abs(constants[np.isfinite(constants)])
    top_decade = int(math.ceil(math.log10(max(finite.max(initial=10.0), 10.0))))
    inf_x = 10.0 ** (top_decade + 3)
    x = _magnitude_x(constants, inf_x)                               # (N,)

    values = [np.asarray(v, dtype=np.float64) for v in leaked.values()]
    positive = np.concatenate([v[v > 0] for v in values] + [np.array([1.0])])
    low = max(int(math.floor(math.log10(positive.min()))) - _LANE_GAP_DECADES, _LOWEST_DECADE)
    high = max(0, int(math.ceil(math.log10(positive.max())))) + _LANE_GAP_DECADES
    zero_y = {name: 10.0 ** (low - _LANE_STEP * i) for i, name in enumerate(leaked)}
    nan_y = {name: 10.0 ** (high + _LANE_STEP * i) for i, name in enumerate(leaked)}

    def hover(name):
        # the true constant and leaked mass ride along as numbers (lanes only place the point)
        return f"{name}<br>constant %{{customdata[0]:.3g}}<br>leaked mass %{{customdata[1]:.4g}}<extra></extra>"

    traces = []
    for name, v in leaked.items():
        v = np.asarray(v, dtype=np.float64)
        colour, symbol = DTYPE_STYLE.get(name, ("#444444", "circle"))
        pos, zero, nan = v > 0, v == 0, np.isnan(v)
        line_y = np.where(pos, v, np.where(zero, zero_y[name], np.where(nan, nan_y[name], np.nan)))
        # break the line before -inf: it is not the next point of the log grid
        gap = np.flatnonzero(np.isinf(constants) & (np.arange(x.size) > 0))
        line_x, line_y = np.insert(x, gap, np.nan), np.insert(line_y, gap, np.nan)
        true = np.stack([constants, v], axis=1)                      # (N, 2) for the hover
        traces.append(dict(type="scatter", x=line_x, y=line_y, mode="lines+markers", name=name, legendgroup=name,
                           line={"color": colour, "width": 2.5}, marker={"color": colour, "symbol": symbol,
                                                                          "size": 6},
                           customdata=np.insert(true, gap, np.nan, axis=0), hovertemplate=hover(name)))
        traces.append(dict(type="scatter", x=x[zero], y=np.full(int(zero.sum()), zero_y[name]), mode="markers",
                           name=f"{name}: exactly 0", legendgroup=name, showlegend=False,
                           marker={"color": "white", "symbol": symbol, "size": 8, "line": {"color": colour, "width": 2}},
                           customdata=true[zero], hovertemplate=hover(name)))
        traces.append(dict(type="scatter", x=x[nan], y=np.full(int(nan.sum()), nan_y[name]), mode="markers",
                           name=f"{name}: NaN", legendgroup=name, showlegend=False,
                           marker={"color": colour, "symbol": "x", "size": 9},
                           customdata=true[nan], hovertemplate=hover(name)))

    shapes, annotations = [], []
    zero_band = (min(zero_y.values()) / 10 ** 0.25, max(zero_y.values()) * 10 ** 0.25)
    nan_band = (min(nan_y.values()) / 10 ** 0.25, max(nan_y.values()) * 10 ** 0.25)
    for (y0, y1), label, fill in ((zero_band, "exactly 0", "rgba(0,114,178,0.07)"),
                                  (nan_band, "NaN", "rgba(0,0,0,0.08)")):
        shapes.append(dict(type="rect", xref="paper", x0=0, x1=1, yref="y", y0=y0, y1=y1, line={"width": 0},
                           fillcolor=fill, layer="below"))
        annotations.append(dict(xref="paper", x=0.0, xanchor="left", y=(math.log10(y0) + math.log10(y1)) / 2,
                                yref="y",
                                text=f"<b>{label}</b>", showarrow=False, font={"size": font_size}, yanchor="middle",
                                bgcolor="rgba(255,255,255,0.7)"))

    markers = []
    for kind, table, dash in (("exp underflow", underflow or {}, "dot"), ("overflow", overflow or {}, "dash")):
        for name, c in table.items():
            if c is None or not np.isfinite(c) or c >= 0:
                continue
            markers.append((abs(c), f"{name} {kind}<br>{fmt(c, 3)}", DTYPE_STYLE.get(name, ("#444444", ""))[0], dash))
    for i, (xv, label, colour, dash) in enumerate(sorted(markers)):
        shapes.append(dict(type="line", x0=xv, x1=xv, xref="x", yref="paper", y0=0, y1=1,
                           line={"color": colour, "width": 1.5, "dash": dash}))
        annotations.append(dict(x=math.log10(xv), xref="x", y=1.0 - 0.09 * (i % 7), yref="paper", text=label,
                                showarrow=False, xanchor="left", yanchor="top", font={"size": font_size - 3,
                                                                                        "color": colour},
                                bgcolor="rgba(255,255,255,0.8)"))

    if current is not None and not math.isnan(current) and current < 0:
        cx = float(_magnitude_x(np.array([current]), inf_x)[0])
        shapes.append(dict(type="line", x0=cx, x1=cx, xref="x", yref="paper", y0=0, y1=1,
                           line={"color": "#d62728", "width": 3}))
        off_range = max_decade is not None and cx > 10.0 ** (max_decade + 0.15)
        annotations.append(dict(x=1.0 if off_range else math.log10(cx), xref="paper" if off_range else "x",
                                y=0.5, yref="paper", xanchor="right" if off_range else "left",
                                text=(f"<b>your constant {fmt(current)} is further right →</b>" if off_range
                                      else f"<b> your constant {fmt(current)}</b>"), showarrow=False,
                                font={"size": font_size, "color": "#d62728"}, bgcolor="white"))
        for name, v in (current_leaked or {}).items():
            v = float(v)
            y = v if v > 0 else zero_y.get(name) if v == 0 else nan_y.get(name)
            colour, symbol = DTYPE_STYLE.get(name, ("#444444", "circle"))
            traces.append(dict(type="scatter", x=[cx], y=[y], mode="markers", name=f"{name} at your constant",
                               legendgroup=name, showlegend=False,
                               marker={"color": colour, "symbol": symbol, "size": 17,
                                       "line": {"color": "#d62728", "width": 3}},
                               hovertemplate=f"{name}<br>your constant {fmt(current)}<br>leaked mass "
                                             f"{fmt(v, 4)}<extra></extra>"))

    shown_decade = top_decade if max_decade is None else max_decade
    ticks = [10.0 ** d for d in range(0, shown_decade + 1, 4 if shown_decade > 12 else 1)] + [inf_x]
    ticktext = ["−1" if t == 1 else f"−1e{int(round(math.log10(t)))}" for t in ticks[:-1]] + ["<b>−∞</b>"]
    x_range = ([-0.15, math.log10(inf_x) + 0.3] if max_decade is None else [-0.15, max_decade + 0.15])
    top = high - _LANE_GAP_DECADES
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100) if (top - low) / s <= 8)
    ytick = [10.0 ** d for d in range(top, low, -step)]
    layout = dict(
        title={"text": title, "font": {"size": font_size + 3}},
        xaxis={"type": "log", "title": {"text": "mask constant (log scale; further right = more negative)"},
               "tickvals": ticks, "ticktext": ticktext, "tickfont": {"size": font_size - 1},
               "range": x_range, "showgrid": True, "gridcolor": "#eeeeee", "automargin": True},
        yaxis={"type": "log", "title": {"text": "leaked mass: total weight on masked keys"},
               "range": [math.log10(zero_band[0]) - 0.2, math.log10(nan_band[1]) + 0.2],
               "tickvals": ytick, "ticktext": [fmt(t) for t in ytick], "tickfont": {"size": font_size - 1},
               "showgrid": True, "gridcolor": "#eeeeee", "zeroline": False, "automargin": True},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right",
                "font": {"size": font_size}},
        shapes=shapes, annotations=annotations, font={"size": font_size}, height=height,
        margin={"l": 10, "r": 20, "t": 70, "b": 10}, plot_bgcolor="white", dragmode=False,
        template=_LAB_TEMPLATE,
    )
    return go.Figure({"data": traces, "layout": layout})


def _literal(x) -> str:
    """A mask cell as the framework prints it: True/False, 1/0, 0/−inf, or a short float."""
    if isinstance(x, (bool, np.bool_)):
        return "True" if x else "False"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    value = float(x)
    if math.isinf(value):
        return "−∞" if value < 0 else "+∞"
    if value == 0:
        return "0"
    return fmt(value, 3).replace("-", "−")


def convention_mask_figure(values, blocked, x_labels, y_labels, *, title: str, cell_text=None,
                           font_size: int = BASE_FONT, height: int | None = None) -> go.Figure:
    """A mask as one framework sees it: colour says blocked / attend, the text is the literal value.

    values: ``(Tq, Tk)`` in the framework's own dtype (bool, int or an additive float);
    blocked: ``(Tq, Tk)`` 0/1 tutorial mask (1 = blocked) that sets the colour, so every
    framework's panel is coloured the same way whatever its polarity.
    cell_text: optional ``(Tq, Tk)`` strings shown instead of the literal values
    (e.g. "min" for ``finfo.min``, which does not fit in a cell).

    >>> fig = convention_mask_figure(np.array([[True, False]]), np.array([[0, 1]]), ["a", "b"], ["a"],
    ...                              title="SDPA")
    >>> fig.data[0].text
    (['True', 'False'],)
    """
    values = np.asarray(values)
    blocked = np.asarray(blocked)
    if values.ndim != 2 or values.shape != blocked.shape:
        raise ValueError(f"values {values.shape} and blocked {blocked.shape} must be the same 2-D shape")
    rows, cols = values.shape
    x, y = _axis_labels(rows, cols, x_labels, y_labels)
    cells = values if values.dtype.kind in "biu" else values.astype(np.float64)   # bfloat16 -> exact float64
    text = [[_literal(cells[r, c]) for c in range(cols)] for r in range(rows)]
    if cell_text is not None:
        if len(cell_text) != rows or any(len(row) != cols for row in cell_text):
            raise ValueError(f"cell_text must be {rows} rows of {cols} strings")
        text = [[str(t) for t in row] for row in cell_text]
    trace = dict(type="heatmap", z=(blocked == 1).astype(np.float32), x=x, y=y, zmin=0.0, zmax=1.0,
                 colorscale=[[0.0, "#ffffff"], [1.0, "#34495e"]], showscale=False, xgap=1, ygap=1,
                 customdata=text, name=title,
                 hovertemplate="query %{y}<br>key %{x}<br>value %{customdata}<extra></extra>")
    if max(rows, cols) <= MAX_CELLS_WITH_TEXT:
        trace.update(text=text, texttemplate="%{text}", textfont={"size": max(font_size - 3, 9)})
    layout = dict(
        title={"text": title, "font": {"size": font_size}},
        xaxis={"title": {"text": "key"}, "type": "category", "tickangle": -45,
               "tickfont": {"size": font_size - 3}, "showticklabels": cols <= 64, "automargin": True},
        yaxis={"title": {"text": "query"}, "type": "category", "autorange": "reversed",
               "tickfont": {"size": font_size - 3}, "showticklabels": rows <= 64, "automargin": True},
        margin={"l": 10, "r": 10, "t": 40 + 22 * title.count("<br>"), "b": 10}, font={"size": font_size},
        plot_bgcolor="white", height=height or int(min(520, max(260, 110 + rows * 26))), dragmode=False,
    )
    return go.Figure({"data": [trace], "layout": layout})


def playground_figures(result) -> dict:
    """The Playground's five figures for a ``pipeline.PlaygroundResult``, ``{name: go.Figure}``.

    The page and ``python -m maskattn.export`` both draw these, so a saved figure is the one on screen.
    """
    steps, labels, settings = result.steps, result.labels, result.settings
    fs = PRESENTATION_FONT if settings.presentation else BASE_FONT
    logits_title = "raw logits q·kᵀ/√d" if settings.scale else "raw logits q·kᵀ"
    stage = dict(font_size=fs, clickable=True, digits=2)
    return {
        "mask": mask_figure(result.mask, labels, labels, font_size=fs),
        "logits": heatmap(steps.logits, labels, labels, title=logits_title, symmetric=True, **stage),
        "masked-logits": heatmap(steps.masked_logits, labels, labels, title=f"masked logits ({steps.method})",
                                 mask=result.mask, symmetric=True, **stage),
        "weights": heatmap(steps.weights, labels, labels, title="softmax weights", mask=result.mask,
                           zrange=(0.0, 1.0), scale=WEIGHT_SCALE, **stage),
        "output": output_figure(steps.output, labels, font_size=fs),
    }
