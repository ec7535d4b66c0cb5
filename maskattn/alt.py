"""Accessible names for the charts: what a panel is, for which case, and what it shows, from its own numbers.

A screen reader meets a heatmap as a name, not as a stream of cell numbers. ``heatmap_alt`` builds
that name from the panel's title, its case and its values; ``leaked_mass_alt`` from the lab's sweep.
Plain text (user tokens included as they are: the browser puts it in an attribute, never in markup).

>>> import numpy as np
>>> heatmap_alt("softmax weights", "the cat · padding", np.array([[0.25, 0.75, 0.0]]), ["the", "cat", "<pad>"],
...             ["the"], mask=np.array([[0, 0, 1]]), kind="weights", dtype="float32")
'softmax weights, the cat · padding: 1 query × 3 keys. 1 masked cell, all exactly 0. Largest 0.75, query the, key cat.'
"""

from __future__ import annotations

import html
import re

import numpy as np

from .text import count, spell, spell_weight

#: what the rows and columns of each kind of panel are
_AXES = {"values": ("query", "value dimension")}


def _plain(text: str) -> str:
    """A title or subtitle as plain text: line breaks become commas, tags go, entities are read; angle brackets
    of user text become ‹ › (the name travels in the chart's spec, where no raw tag may appear)."""
    return _angles(html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", ", ", text or ""))).strip(" ,"))


def _angles(text: str) -> str:
    return str(text).replace("<", "‹").replace(">", "›")


def heatmap_alt(title: str, subtitle: str, values, x_labels, y_labels, *, mask=None, kind: str = "scores",
                dtype: str = "float64") -> str:
    """The accessible name of a heatmap panel: title and case, its size, its masked cells and what they hold,
    its NaN and infinite cells, and its largest value with where it is.

    >>> heatmap_alt("mask (1 = blocked)", "", np.array([[0.0, 1.0]]), ["a", "b"], ["a"], kind="mask")
    'mask (1 = blocked): 1 query × 2 keys. 1 blocked cell: query a, key b.'
    >>> heatmap_alt("weights", "", np.array([[np.nan, np.nan]]), ["a", "b"], ["a"], kind="weights")
    'weights: 1 query × 2 keys. 2 NaN cells.'
    """
    v = np.asarray(values, dtype=np.float64)
    rows, cols = v.shape
    row_word, col_word = _AXES.get(kind, ("query", "key"))
    x_labels, y_labels = [_angles(x) for x in x_labels], [_angles(y) for y in y_labels]
    head = _plain(title) + (f", {_plain(subtitle)}" if _plain(subtitle) else "")
    parts = [f"{head}: {count(rows, row_word)} × {count(cols, col_word)}."]
    if kind == "mask":
        blocked = np.argwhere(v == 1)
        if not blocked.size:
            parts.append("Nothing is blocked.")
        elif len(blocked) <= 3:
            where = "; ".join(f"{row_word} {y_labels[r]}, {col_word} {x_labels[c]}" for r, c in blocked)
            parts.append(f"{count(len(blocked), 'blocked cell')}: {where}.")
        else:
            parts.append(f"{count(len(blocked), 'blocked cell')} of {rows * cols}.")
        return " ".join(parts)
    masked = np.zeros(v.shape, bool) if mask is None else np.broadcast_to(np.asarray(mask) == 1, v.shape)
    finite = np.isfinite(v)
    if masked.any():
        held = v[masked & finite]
        if kind == "weights":
            leak = held.max() if held.size else 0.0
            parts.append(f"{count(int(masked.sum()), 'masked cell')}, "
                         + ("all exactly 0." if held.size == masked.sum() and leak == 0 else
                            f"the largest weight on one {spell(leak, dtype, digits=3)}." if held.size else "none a number."))
        else:
            parts.append(f"{count(int(masked.sum()), 'masked cell')}.")
    nan, inf = int(np.isnan(v).sum()), int(np.isinf(v).sum())
    if nan:
        parts.append(f"{count(nan, 'NaN cell')}.")
    if inf:
        parts.append(f"{count(inf, 'infinite cell')}.")
    open_finite = finite & ~masked
    if open_finite.any() and kind != "term":         # a mask term's open cells are all 0: no largest to name
        r, c = np.unravel_index(np.argmax(np.where(open_finite, v, -np.inf)), v.shape)
        parts.append(f"Largest {spell(v[r, c], dtype, digits=3)}, {row_word} {y_labels[r]}, {col_word} {x_labels[c]}.")
    return " ".join(parts)


def leaked_mass_alt(title: str, current: float | None, current_leaked: dict | None, dtypes) -> str:
    """The accessible name of the lab's leaked-mass chart: what it plots, and the leak at the constant in use.

    >>> leaked_mass_alt("Leaked mass vs the constant (add)", -1e9, {"float16": np.nan, "float32": 0.0},
    ...                 ["float16", "float32"])
    'Leaked mass vs the constant (add), for float16 and float32. At your constant -1e9: float16 NaN, float32 exactly 0.'
    """
    names = list(dtypes)
    head = f"{_plain(title)}, for {', '.join(names[:-1]) + ' and ' + names[-1] if len(names) > 1 else names[0]}."
    if current is None or not current_leaked:
        return head
    said = ", ".join(f"{name} " + spell_weight(leak)
                     for name, leak in ((n, float(current_leaked[n])) for n in names if n in current_leaked))
    return f"{head} At your constant {spell(current, digits=6)}: {said}."


def drift_alt(title: str, names, drift, drift_unmasked, setting: str, other: str = "no mask") -> str:
    """The accessible name of the real model's drift chart: per sentence, its change against itself alone after
    the last layer, with the current setting and with no mask.

    >>> drift_alt("Drift", ["hello world"], np.array([[0.0, 1e-6]]), np.array([[0.0, 0.88]]), "−1e9")
    'Drift: after the last layer, hello world moves by 1e-6 with −1e9 and by 0.88 with no mask.'
    """
    def said(value: float) -> str:
        return "NaN" if np.isnan(value) else "0 (exactly equal)" if value == 0 else spell(value, digits=2)

    parts = [f"{_angles(name)} moves by {said(a[-1])} with {setting} and by {said(b[-1])} with {other}"
             for name, a, b in zip(names, np.asarray(drift), np.asarray(drift_unmasked))]
    return f"{_plain(title)}: after the last layer, " + "; ".join(parts) + "."
