"""The constant lab's figure: leaked mass versus the mask constant, for every dtype, impossible to misread.

Three bands share one x axis (the constant's magnitude, log scale, with −∞ on its own tick):

- the middle band is a log axis of the leaked mass, for values that are a positive number;
- below it, a separate "exactly 0" strip: one row per dtype, a marker where the leak is exactly 0;
- above it, a separate "NaN" strip: one row per dtype, a cross where the result is NaN.

Zero and NaN are not numbers on the log axis, so they never sit on it, and no line is drawn
between a finite value and a strip: a dtype that goes from "exactly 0" to NaN (float16 once
the constant overflows) shows two separate runs of markers, never a rising curve.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ..alt import leaked_mass_alt
from ..text import spell
from .base import BASE_FONT, DTYPE_STYLE

#: the three bands, as fractions of the plot's height (bottom to top): exactly 0, log axis, NaN
ZERO_BAND, LOG_BAND, NAN_BAND = (0.0, 0.19), (0.27, 0.76), (0.83, 1.0)
#: the user's constant
CURRENT_COLOUR = "#d62728"
#: the share of the axis left free beyond the first and the last decade: a marker's radius on a phone
EDGE_SHARE = 0.035
_LAB_TEMPLATE = {"layout": {"font": {"color": "#2a3f5f"}, "hovermode": "closest",
                            "hoverlabel": {"align": "left"}}}


def _magnitude_x(constants: np.ndarray, inf_x: float) -> np.ndarray:
    """|constant| for a log axis; -inf goes to ``inf_x`` (its own tick, right of the grid)."""
    x = np.abs(np.asarray(constants, dtype=np.float64))
    return np.where(np.isinf(x), inf_x, x)


def _runs(mask: np.ndarray) -> np.ndarray:
    """``mask`` as a line: True where a point is drawn, NaN gaps elsewhere (no line across a gap)."""
    return np.where(mask, 1.0, np.nan)


def leaked_mass_figure(constants, leaked: dict, *, current: float | None = None, current_leaked: dict | None = None,
                       underflow: dict | None = None, overflow: dict | None = None, title: str = "",
                       max_decade: int | None = None, font_size: int = BASE_FONT, height: int = 560) -> go.Figure:
    """Leaked mass versus the (negative) mask constant, one colour and marker per dtype.

    constants: ``(N,)`` negative constants (``-inf`` allowed: drawn at its own "−∞" tick).
    leaked: dtype name -> ``(N,)`` leaked mass. Positive values are drawn on the log axis;
    exact zeros on the "exactly 0" strip and NaN on the "NaN" strip, each dtype on its own row.
    current / current_leaked: the user's constant and its leaked mass per dtype (highlighted).
    underflow / overflow: dtype -> constant where exp underflows / the constant overflows to −inf
    (vertical dotted / dashed lines in the dtype's colour, named in their hover; NaN or None skipped).
    max_decade: zoom the x axis to -1 .. -10**max_decade (None: the whole grid and −∞).

    >>> fig = leaked_mass_figure(np.array([-1.0, -1e9, -np.inf]), {"float32": np.array([0.1, 0.0, np.nan])})
    >>> [(t.name, t.yaxis) for t in fig.data]
    [('float32', 'y'), ('float32: exactly 0', 'y2'), ('float32: NaN', 'y3')]
    >>> fig.data[1].x.tolist(), fig.data[2].x.tolist()     # -inf sits right of the grid, on its own tick
    ([1000000000.0], [1000000000000.0])
    """
    constants = np.asarray(constants, dtype=np.float64)              # (N,)
    finite = np.abs(constants[np.isfinite(constants)])
    top_decade = int(math.ceil(math.log10(max(finite.max(initial=10.0), 10.0))))
    inf_x = 10.0 ** (top_decade + 3)
    x = _magnitude_x(constants, inf_x)                               # (N,)
    names = list(leaked)

    def hover(name):
        return (f"{name}<br>constant %{{customdata[0]}}<br>leaked mass %{{customdata[1]}}<extra></extra>")

    traces = []
    for name, values in leaked.items():
        v = np.asarray(values, dtype=np.float64)                     # (N,)
        colour, symbol = DTYPE_STYLE.get(name, ("#444444", "circle"))
        positive, zero, nan = v > 0, v == 0, np.isnan(v)
        spelled = np.array([[spell(c, digits=3), spell(lk, digits=4)] for c, lk in zip(constants, v)])
        # the log band: only positive values, and a break wherever the next point is not positive
        # or is the -inf tick (it is not the next point of the log grid)
        y = np.where(positive, v, np.nan)
        gap = np.flatnonzero(np.isinf(constants) & (np.arange(x.size) > 0))
        line_x, line_y = np.insert(x, gap, np.nan), np.insert(y, gap, np.nan)
        traces.append(dict(type="scatter", x=line_x, y=line_y, yaxis="y", mode="lines+markers", name=name,
                           legendgroup=name, line={"color": colour, "width": 2.5},
                           marker={"color": colour, "symbol": symbol, "size": 6},
                           customdata=np.insert(spelled, gap, ["", ""], axis=0), hovertemplate=hover(name)))
        traces.append(dict(type="scatter", x=x[zero], y=[name] * int(zero.sum()), yaxis="y2", mode="markers",
                           name=f"{name}: exactly 0", legendgroup=name, showlegend=False,
                           marker={"color": "white", "symbol": symbol, "size": 8, "line": {"color": colour,
                                                                                         "width": 2}},
                           customdata=spelled[zero], hovertemplate=hover(name)))
        traces.append(dict(type="scatter", x=x[nan], y=[name] * int(nan.sum()), yaxis="y3", mode="markers",
                           name=f"{name}: NaN", legendgroup=name, showlegend=False,
                           marker={"color": colour, "symbol": "x", "size": 9},
                           customdata=spelled[nan], hovertemplate=hover(name)))

    shapes, annotations = [], []
    for band in (ZERO_BAND, NAN_BAND):
        shapes.append(dict(type="rect", xref="paper", x0=0, x1=1, yref="paper", y0=band[0], y1=band[1],
                           line={"width": 0}, fillcolor="rgba(0,0,0,0.045)", layer="below"))
    for kind, table, dash in (("exp underflows", underflow or {}, "dot"), ("constant overflows to -inf",
                                                                          overflow or {}, "dash")):
        for name, c in table.items():
            if c is None or not np.isfinite(c) or c >= 0:
                continue
            colour = DTYPE_STYLE.get(name, ("#444444", ""))[0]
            shapes.append(dict(type="line", x0=abs(c), x1=abs(c), xref="x", yref="paper", y0=0, y1=1,
                               line={"color": colour, "width": 1.5, "dash": dash}))
            # an invisible point on the line carries its name and value (no text to collide)
            traces.append(dict(type="scatter", x=[abs(c)], y=[0.5], yaxis="y4", mode="markers", showlegend=False,
                               marker={"color": colour, "size": 14, "opacity": 0.0},
                               hovertemplate=f"{name}: {kind} at about {spell(c, digits=4)}<extra></extra>"))

    last = math.log10(inf_x) if max_decade is None else max_decade
    edge = max(0.15, EDGE_SHARE * last)           # the first and last points' markers stay whole, even on a phone
    x_range = [-edge, last + edge]
    if current is not None and not math.isnan(current) and current < 0:
        cx = float(_magnitude_x(np.array([current]), inf_x)[0])
        off_range = max_decade is not None and cx > 10.0 ** x_range[1]
        if not off_range:
            shapes.append(dict(type="line", x0=cx, x1=cx, xref="x", yref="paper", y0=0, y1=1,
                               line={"color": CURRENT_COLOUR, "width": 3}))
        annotations.append(dict(
            x=1.0 if off_range else math.log10(cx), xref="paper" if off_range else "x", y=1.0, yref="paper",
            yanchor="bottom", xanchor="right" if off_range or math.log10(cx) > sum(x_range) / 2 else "left",
            text=(f"your constant {spell(current, digits=4)} is further right →" if off_range
                  else f"your constant {spell(current, digits=4)}"), showarrow=False,
            font={"size": font_size - 1, "color": CURRENT_COLOUR}))
        for name, value in (current_leaked or {}).items():
            value = float(value)
            colour, symbol = DTYPE_STYLE.get(name, ("#444444", "circle"))
            axis, y = ("y3", name) if math.isnan(value) else ("y2", name) if value == 0 else ("y", value)
            if not off_range:
                traces.append(dict(type="scatter", x=[cx], y=[y], yaxis=axis, mode="markers",
                                   name=f"{name} at your constant", legendgroup=name, showlegend=False,
                                   marker={"color": colour, "symbol": symbol, "size": 15,
                                           "line": {"color": CURRENT_COLOUR, "width": 3}},
                                   hovertemplate=f"{name}<br>your constant {spell(current, digits=4)}<br>leaked "
                                                 f"mass {spell(value, digits=4)}<extra></extra>"))

    shown_decade = top_decade if max_decade is None else max_decade
    ticks = [10.0 ** d for d in range(0, shown_decade + 1, 4 if shown_decade > 12 else 1)] + [inf_x]
    ticktext = ["-1" if t == 1 else f"-1e{int(round(math.log10(t)))}" for t in ticks[:-1]] + ["<b>-inf</b>"]
    positive = np.concatenate([np.asarray(v, dtype=np.float64)[np.asarray(v, dtype=np.float64) > 0]
                               for v in leaked.values()] + [np.array([1.0])])
    low = max(int(math.floor(math.log10(positive.min()))), -320)
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100) if (0 - low) / s <= 6)
    ytick = [10.0 ** d for d in range(0, low - 1, -step)]
    strip = {"type": "category", "categoryorder": "array", "categoryarray": names[::-1], "showgrid": False,
             "tickfont": {"size": font_size - 3}, "fixedrange": True, "zeroline": False, "tickmode": "array",
             "tickvals": names, "ticktext": names, "range": [-0.6, len(names) - 0.4]}
    layout = dict(
        title={"text": title, "font": {"size": font_size + 2}, "x": 0, "xanchor": "left", "xref": "container",
               "pad": {"l": 8}, "automargin": True},
        xaxis={"type": "log", "title": {"text": "mask constant (log scale)"}, "tickvals": ticks,
               "ticktext": ticktext, "tickfont": {"size": font_size - 1}, "range": x_range, "showgrid": True,
               "gridcolor": "#eeeeee", "automargin": True, "anchor": "y2"},
        yaxis={"type": "log", "domain": list(LOG_BAND), "title": {"text": "leaked mass", "standoff": 4},
               "range": [low - 0.5, 0.3], "tickvals": ytick, "ticktext": [spell(t, digits=2) for t in ytick],
               "tickfont": {"size": font_size - 2}, "showgrid": True, "gridcolor": "#eeeeee", "zeroline": False,
               "automargin": True},
        yaxis2=strip | {"domain": list(ZERO_BAND), "title": {"text": "exactly 0", "standoff": 4}},
        yaxis3=strip | {"domain": list(NAN_BAND), "title": {"text": "NaN", "standoff": 4}},
        yaxis4={"domain": [0, 1], "range": [0, 1], "visible": False, "fixedrange": True, "overlaying": "y"},
        legend={"orientation": "h", "y": -0.18, "yanchor": "top", "x": 0, "xanchor": "left",
                "font": {"size": font_size - 1}, "title": {"text": "dtype "}},
        shapes=shapes, annotations=annotations, font={"size": font_size}, height=height,
        margin={"l": 10, "r": 16, "t": 56, "b": 10}, plot_bgcolor="white", dragmode=False,
        template=_LAB_TEMPLATE, meta={"alt": leaked_mass_alt(title, current, current_leaked, list(leaked))},
    )
    return go.Figure({"data": traces, "layout": layout})
