"""The real model's pictures: how far each sentence drifts from itself alone, layer by layer.

A drift of exactly 0 has no place on a log axis and NaN is not a number: each has its own strip (below and
above the log band, as in the Constant lab), and a line never jumps between strips.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ..alt import drift_alt
from ..tokens import position_labels
from .base import BASE_FONT, safe_label
from .heatmap import colour_range, heatmap, room_width, special_codes

#: the bands of the drift figure (paper fractions): exactly equal below, the log band, NaN above
EQUAL_BAND, LOG_BAND, NAN_BAND = (0.0, 0.1), (0.18, 0.86), (0.92, 1.0)
#: one colour per sentence (Okabe–Ito, colour-blind safe); "no mask" is the same colour, dashed
SENTENCE_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442")
#: a sentence's name in the legend, at most this many characters
LEGEND_CHARS = 22
#: the smallest drift the log band shows: below it a value is drawn at its floor
FLOOR = 1e-9


def _series(drift: np.ndarray) -> tuple[list, list, list, list]:
    """(x, y) on the log band (None between runs) and the x of exact zeros and of NaN, for one sentence."""
    xs, ys, zeros, nans = [], [], [], []
    for layer, value in enumerate(drift):
        if math.isnan(value):
            nans.append(layer)
            xs.append(None), ys.append(None)
        elif value == 0:
            zeros.append(layer)
            xs.append(None), ys.append(None)
        else:
            xs.append(layer), ys.append(max(float(value), FLOOR))
    return xs, ys, zeros, nans


def drift_figure(names, drift, drift_unmasked, *, setting: str, other: str = "no mask", title: str = "",
                 font_size: int = BASE_FONT, height: int = 460) -> go.Figure:
    """Each sentence's largest change against itself alone after each layer: solid with the current setting,
    dashed with no mask. ``drift``, ``drift_unmasked``: ``(B, layers + 1)`` (layer 0 = the embeddings).

    >>> fig = drift_figure(["a"], np.array([[0.0, 1e-7, np.nan]]), np.array([[0.0, 0.5, 0.8]]), setting="−1e9")
    >>> [(t.name, t.yaxis) for t in fig.data][:3]
    [('a · −1e9', None), ('a · −1e9: exactly equal', 'y2'), ('a · −1e9: NaN', 'y3')]
    """
    drift, drift_unmasked = np.asarray(drift, np.float64), np.asarray(drift_unmasked, np.float64)
    alt = drift_alt(title, names, drift, drift_unmasked, setting, other)
    names = [safe_label(name, LEGEND_CHARS) for name in names]          # user text: escaped, never markup
    layers = drift.shape[1]
    traces = []
    for b, name in enumerate(names):
        colour = SENTENCE_COLOURS[b % len(SENTENCE_COLOURS)]
        for values, dash, label, symbol in ((drift[b], "solid", setting, "circle"),
                                             (drift_unmasked[b], "dash", other, "x")):
            xs, ys, zeros, nans = _series(values)
            legend = f"{name} · {label}"
            hover = f"{legend}<br>after layer %{{x}}: %{{y:.3g}}<extra></extra>"
            traces.append(dict(type="scatter", x=xs, y=ys, name=legend, legendgroup=legend, mode="lines+markers",
                               line={"color": colour, "dash": dash, "width": 2}, hovertemplate=hover,
                               marker={"color": colour, "symbol": symbol, "size": 8}, connectgaps=False))
            for strip, axis, xs_strip in (("exactly equal", "y2", zeros), ("NaN", "y3", nans)):
                traces.append(dict(type="scatter", x=xs_strip, y=[name] * len(xs_strip), yaxis=axis,
                                   name=f"{legend}: {strip}", legendgroup=legend, showlegend=False, mode="markers",
                                   marker={"color": colour, "symbol": symbol, "size": 9},
                                   hovertemplate=f"{legend}<br>after layer %{{x}}: {strip}<extra></extra>"))
    finite = np.concatenate([drift[np.isfinite(drift) & (drift > 0)], drift_unmasked[np.isfinite(drift_unmasked)
                                                                                     & (drift_unmasked > 0)]])
    low = math.floor(math.log10(max(finite.min(initial=1.0), FLOOR)))
    high = math.ceil(math.log10(max(finite.max(initial=1.0), 10.0 ** (low + 1))))
    strip = {"type": "category", "categoryorder": "array", "categoryarray": list(names)[::-1], "showticklabels": False,
             "fixedrange": True, "showgrid": False, "zeroline": False}
    shapes = [dict(type="rect", xref="paper", x0=0, x1=1, yref="paper", y0=band[0], y1=band[1],
                   line={"width": 0}, fillcolor="rgba(0,0,0,0.045)", layer="below") for band in (EQUAL_BAND, NAN_BAND)]
    layout = dict(
        title={"text": title}, height=height, font={"size": font_size}, plot_bgcolor="white", dragmode=False,
        margin={"l": 10, "r": 16, "t": 48, "b": 10}, shapes=shapes,
        xaxis={"title": {"text": "after layer (0 = the embeddings)"}, "tickmode": "array",
               "tickvals": list(range(layers)), "range": [-0.3, layers - 0.7], "fixedrange": True, "anchor": "y2", "zeroline": False,
               "showgrid": True, "gridcolor": "#eeeeee"},
        yaxis={"type": "log", "domain": list(LOG_BAND), "range": [low - 0.3, high + 0.3], "fixedrange": True,
               "title": {"text": "largest |change|", "standoff": 4}, "showgrid": True, "gridcolor": "#eeeeee",
               "exponentformat": "power", "automargin": True},
        yaxis2=strip | {"domain": list(EQUAL_BAND), "title": {"text": "equal", "standoff": 4}},
        yaxis3=strip | {"domain": list(NAN_BAND), "title": {"text": "NaN", "standoff": 4}},
        legend={"orientation": "h", "y": -0.3, "yanchor": "top", "x": 0, "xanchor": "left",
                "font": {"size": font_size - 1}},
        meta={"alt": alt},
    )
    return go.Figure({"data": traces, "layout": layout})


#: up to this many tokens the four attention panels sit two abreast at 1280×720 with the sidebar open
TWO_ABREAST_TOKENS = 12
#: px between panels in a row (Streamlit's "small" gap, with a margin)
GAP = 16


def attention_figures(run, b: int, layer: int, head: int, *, font_size: int = BASE_FONT, panel_width: int = 392,
                      room: int = 800) -> dict[str, go.Figure]:
    """One head of one layer for sentence ``b`` of a ``model.ModelRun`` (``layer``, ``head`` from 1): the masked
    logits, weights, raw logits and mask term, real WordPiece tokens on the axes, [PAD] keys outlined."""
    T = run.ids.shape[1]
    labels = position_labels(run.tokens[b])
    # outlined: the [PAD] keys always (a weight left on one is flagged), and whatever else the run blocked
    pads = np.maximum(np.broadcast_to(run.mask[b, 0], (T, T)), run.blocked[b, 0])      # (T, T)
    steps, h = run.layers[layer - 1], head - 1
    wide = room_width(T, T, x_labels=labels, y_labels=labels, base=panel_width, room=room, font_size=font_size,
                      subtitle=True)
    # two abreast while a cell keeps a short number; one per row (up to the room) for a long sentence
    size = dict(font_size=font_size, width=wide if T > TWO_ABREAST_TOKENS else min(wide, (room - GAP) // 2),
                subtitle=f"sentence {b + 1}, layer {layer}, head {head}", dtype=run.dtype)
    raw = steps.logits[b, h].astype(np.float64)
    scale = colour_range(raw, special_codes(raw), symmetric=True)
    return {
        "masked-logits": heatmap(steps.masked_logits[b, h], labels, labels, title="masked logits z = x + mask × c",
                                 kind="scores", mask=pads, zrange=scale, **size),
        "weights": heatmap(steps.weights[b, h], labels, labels, title="softmax weights", kind="weights", mask=pads,
                           zrange=(0.0, 1.0), **size),
        "logits": heatmap(steps.logits[b, h], labels, labels, title="raw logits x = q·kᵀ/√d", kind="scores",
                          **size),
        "mask-term": heatmap(steps.mask_term[b, h], labels, labels, title="mask term", kind="term", mask=pads,
                             **size),
    }


#: the similarity panels: which embeddings, and the panel's title
SIMILARITIES = {"alone": "each sentence alone", "batch": "in the batch, this setting",
                "unmasked": "in the batch, no mask"}


def similarity_figures(effect, *, font_size: int = BASE_FONT, room: int = 800) -> dict[str, go.Figure]:
    """The cosine similarities of the sentence embeddings (``model.PaddingEffect.similarity``), three abreast,
    sentences numbered as in the page's table."""
    numbers = [str(b + 1) for b in range(len(effect.batch.sentences))]
    size = dict(font_size=font_size, width=(room - 2 * GAP) // 3, zrange=(-1.0, 1.0), kind="values",
                x_title="sentence (numbered as in the table)", y_title="sentence", dtype="float64")
    return {which: heatmap(effect.similarity(which), numbers, numbers, title=f"cosine: {title}", **size)
            for which, title in SIMILARITIES.items()}
