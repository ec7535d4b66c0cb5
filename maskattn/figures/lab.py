"""The constant lab's figure: leaked mass versus the mask constant, for every dtype."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ..explain import fmt
from .base import BASE_FONT, DTYPE_STYLE

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
