"""Pictures of a bias: one key's bias from a tilt to a mask, and ALiBi's heads side by side.

>>> from maskattn.bias import bias_limit
>>> fig = bias_row_figure(bias_limit([2.0, 1.0, 0.5], 0), step=-10.0, dtype="float32", labels=["a", "b", "c"])
>>> [t.name for t in fig.data], fig.layout.meta["alt"][:60]
(['no bias', 'bias −10 on key a'], "The row's weights with no bias and with a bias of −10 on key")
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..bias import BiasLimit
from ..text import spell, spell_signed, spell_weight
from .base import BASE_FONT, TEMPLATE, safe_label
from .heatmap import heatmap

#: the two bars: the row as it is, and with the key's bias (Okabe–Ito grey and blue)
PLAIN_COLOUR, BIASED_COLOUR = "#999999", "#0072b2"


def bias_row_figure(limit: BiasLimit, *, step: float, dtype: str, labels, font_size: int = BASE_FONT,
                    width: int = 520, height: int = 380) -> go.Figure:
    """The row's weights in ``dtype``: with no bias (grey) and with ``step`` on the key (blue), each bar labelled."""
    d, s = limit.dtypes.index(dtype), limit.steps.index(step)
    names = [safe_label(str(label)) for label in labels]
    key = names[limit.key]
    plain, biased = limit.row[d, limit.steps.index(0.0)] if 0.0 in limit.steps else limit.row[d, 0], limit.row[d, s]
    bias_name = f"bias {spell_signed(step)} on key {key}"
    fig = go.Figure()
    for name, values, colour in (("no bias", plain, PLAIN_COLOUR), (bias_name, biased, BIASED_COLOUR)):
        fig.add_bar(x=names, y=np.nan_to_num(values, nan=0.0), name=name, marker_color=colour,
                    customdata=[spell_weight(w) for w in values],
                    hovertemplate="key %{x}: %{customdata}<extra>" + name + "</extra>")
    top = float(np.nanmax([plain[limit.key], biased[limit.key], 0.0]))
    side = "left" if limit.key < len(names) / 3 else "right" if limit.key > 2 * len(names) / 3 else "center"
    fig.add_annotation(x=key, y=top + 0.04, yanchor="bottom", xanchor=side, showarrow=False, font=dict(size=font_size),
                       text=f"{spell_weight(plain[limit.key])} → {spell_weight(biased[limit.key])}",
                       bgcolor="rgba(255,255,255,0.85)")                     # the key's weight, before → after
    title = f"The row's weights with no bias and with a bias of {spell_signed(step)} on key {key} ({dtype})"
    said = ", ".join(f"{n} {spell_weight(w)}" for n, w in zip(names, biased))
    fig.update_layout(
        template=TEMPLATE, barmode="group", width=width, height=height, font=dict(size=font_size),
        title=dict(text=f"weights: no bias vs {spell_signed(step)} on key {key}", font=dict(size=font_size + 1)),
        yaxis=dict(title="weight", range=[0, 1.15], tickformat=".1f"), xaxis=dict(title="key"),
        legend=dict(orientation="h", y=-0.42, x=0, yanchor="top"), margin=dict(l=60, r=40, t=50, b=110),
        meta={"alt": f"{title}. With the bias: {said}."})
    return fig


def alibi_head_figures(weights, labels, *, mask=None, heads, slopes, font_size: int = BASE_FONT,
                       width: int = 230) -> list[go.Figure]:
    """One weights heatmap per head, ``weights (H, T, T)``, titled with the head and its slope; one shared 0..1 scale
    (no colour bar: the page says it once, so every panel has the same size)."""
    figs = []
    for h, (w, slope) in enumerate(zip(weights, slopes)):
        figs.append(heatmap(w, labels, labels, title=f"head {heads[h]}: m = {spell(slope, digits=3)}",
                            mask=mask, kind="weights", zrange=(0.0, 1.0), font_size=font_size, width=width,
                            colorbar=False))
    return figs


def bias_heatmap(bias, labels, *, title: str, font_size: int = BASE_FONT, width: int = 300) -> go.Figure:
    """The bias matrix itself, on the scores' diverging scale."""
    return heatmap(np.asarray(bias, dtype=np.float64), labels, labels, title=title, kind="scores", dtype="float64",
                   font_size=font_size, width=width)
