"""The Playground's figures: the mask and the line ``logits + mask × constant`` stage by stage.

``playground_figures(result, ...)`` draws, for one sequence: the mask, the raw logits x,
the mask term (``mask × constant`` for ``add``, the fill for the fill methods: where
float16's ``0 × -inf = NaN`` happens), the masked logits z, the softmax weights and the
output. The page and ``python -m maskattn.export`` draw these same figures; only the
size differs (a panel width on screen, a generous cell size for publication).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..text import spell
from .base import BASE_FONT, safe_label
from .heatmap import PANEL_WIDTH, colour_range, heatmap, room_width, special_codes

#: the Playground's figures, in reading order (also the export file stems)
FIGURE_NAMES: tuple[str, ...] = ("mask", "logits", "mask-term", "masked-logits", "weights", "output")
#: the stage panels a click on a cell selects a row in
STAGES: tuple[str, ...] = ("logits", "mask-term", "masked-logits", "weights")
#: the mask (0 and 1 only) is drawn smaller than the stages on screen, next to the verdict
MASK_SHARE = 0.8
#: publication size: pixels per cell and type size, whatever the window
PUBLICATION_CELL, PUBLICATION_FONT = 64, 16


def state_subtitle(result, limit: int = 20, width: int = 72, *, masks: bool = True, constant: bool = True) -> str:
    """One line naming the case: tokens, masks, constant, method and dtype (user text escaped).

    The tokens get up to ``limit`` characters and the line about ``width``. When the masks need
    the room, the tokens give way first (the axis labels name them too), then the masks named
    first (the tutorial's) are counted instead of named. ``masks=False`` / ``constant=False``
    leave those parts out, for a panel that does not depend on them (the raw logits): its
    figure then stays the same when they change, and the browser does not redraw it.

    >>> from maskattn.pipeline import compute
    >>> from maskattn.state import Inputs
    >>> state_subtitle(compute(Inputs(text="a <b>", padding=False, causal=True)))
    'a &lt;b&gt; · causal · c = -1e9 · add · float32'
    >>> state_subtitle(compute(Inputs(padding_side="left", causal=True, window=3)), width=61)
    'padding (left) + causal + window 3 · c = -1e9 · add · float32'
    >>> state_subtitle(compute(Inputs(padding_side="left", causal=True, window=3, prefix_length=2, packed=True)))
    'prefix 2 + packed + documents (+3 more) · c = -1e9 · add · float32'
    """
    inputs, steps = result.inputs, result.steps
    names = (inputs.mask_names() or ["no mask"]) if masks else []
    tail = (f" · c = {spell(inputs.mask_value, digits=4)} · {steps.method}" if constant else "") + f" · {steps.dtype}"
    joined, dropped = " + ".join(names), 0
    while len(joined) + len(tail) > width and dropped < len(names) - 1:
        dropped += 1
        joined = " + ".join(names[dropped:]) + f" (+{dropped} more)"
    room = min(limit, width - len(joined) - len(tail) - 3)
    tokens = safe_label(' '.join(result.tokens), room) if room >= 8 else ""
    return " · ".join(part for part in (tokens, joined) if part) + tail


def subtitle_chars(width: int | None, font_size: int) -> int:
    """How many characters of subtitle (``font_size - 2``, about half an em each) fit in a panel ``width`` wide.

    >>> subtitle_chars(392, 13), subtitle_chars(None, 13)
    (69, 72)
    """
    return 72 if width is None else int((width - 12) / (0.5 * (font_size - 2)))


def stage_titles(result) -> dict[str, str]:
    """Each panel's title: what it is, written as the tutorial's line writes it."""
    steps, inputs = result.steps, result.inputs
    c = spell(steps.mask_value, steps.dtype)
    x = "q·kᵀ/√d" if inputs.scale else "q·kᵀ"
    if not steps.has_mask:
        term, masked = "mask term: none (no mask is on)", "masked logits z = x (no mask)"
    elif steps.method == "add":
        term, masked = f"mask term: mask × ({c})", "masked logits z = x + mask × c"
    elif steps.method in ("fill", "safe"):
        term, masked = f"fill: {c} where mask = 1", "masked logits z = where(mask, c, x)"
    elif steps.method == "attend_all":
        term, masked = f"fill: {c} where mask = 1 (rows with no key: none)", "masked logits z = where(mask, c, x)"
    elif steps.method == "zero_logits":
        term, masked = "mask term: none (masked logits set to 0)", "masked logits z = x × (1 − mask)"
    else:
        term, masked = "mask term: none (mask applied after softmax)", "logits z = x (mask applied later)"
    if steps.bias is not None:                           # the bias rides with the logits into the mask step
        masked = masked.replace("z = x", "z = x + bias")
    weights = "softmax weights" + (" × (1 − mask)" if steps.method == "multiply_weights" and steps.has_mask else "")
    mask_title = "mask (1 = blocked)" if steps.has_mask else "mask: none is on"
    if steps.has_mask and not np.any(result.mask):      # a mask that is on but blocks nothing (no pad in this row):
        mask_title = "mask: nothing blocked here"         # say so, so a blank panel does not read as a broken one
        zero = "= 0 here" if not np.isnan(steps.mask_term).any() else "= NaN (0 × -inf)"
        term = {"add": f"mask term: mask × ({c}) {zero}", "fill": "fill: nowhere (nothing blocked)",
                "safe": "fill: nowhere (nothing blocked)",
                "attend_all": "fill: nowhere (nothing blocked)"}.get(steps.method, term)
    return {"mask": mask_title, "logits": f"raw logits x = {x}", "mask-term": term,
            "masked-logits": masked, "weights": weights, "output": "output = weights @ v"}


def playground_figures(result, *, font_size: int = BASE_FONT, width: int | None = PANEL_WIDTH,
                       cell: float | None = None, subtitle: bool = True, room: int | None = None) -> dict[str, go.Figure]:
    """The Playground's figures for a ``pipeline.PlaygroundResult``, ``{name: go.Figure}`` (``FIGURE_NAMES``).

    ``width``: each panel's width in pixels (screen), grown up to ``room`` when its cells would be too
    small for numbers (``room_width``); ``cell``: the size of a cell instead (publication: the figure
    grows with T). Stage panels are clickable (a click selects a row).
    """
    steps, labels = result.steps, result.labels
    if width and room:
        width = room_width(len(labels), len(labels), x_labels=labels, y_labels=labels, base=width, room=room,
                           font_size=font_size, subtitle=subtitle)
    titles = stage_titles(result)
    chars = subtitle_chars(width, font_size)
    sub = state_subtitle(result, width=chars) if subtitle else ""
    size = dict(font_size=font_size, width=width, cell=cell, subtitle=sub, dtype=steps.dtype)
    mask = result.mask if result.has_mask else None
    output_labels = [f"v{i}" for i in range(steps.output.shape[-1])]
    mask_size = dict(size)                                  # the mask panel is narrower on screen
    if width:
        mask_width = int(width * MASK_SHARE)
        mask_size["width"] = mask_width
        mask_size["subtitle"] = state_subtitle(result, width=subtitle_chars(mask_width, font_size)) if subtitle else ""
    raw = steps.logits.astype(np.float64)
    raw_scale = colour_range(raw, special_codes(raw), symmetric=True)      # (lo, hi) of the raw logits
    figs = {
        "mask": heatmap(result.mask, labels, labels, title=titles["mask"], kind="mask", mask=mask, **mask_size),
        # the raw logits are the input, before any mask: no outline, so a mask change leaves this figure as it is
        "logits": heatmap(steps.logits, labels, labels, title=titles["logits"], kind="scores", clickable=True,
                          **(size | {"subtitle": state_subtitle(result, width=chars, masks=False, constant=False)
                                     if subtitle else ""})),
        "mask-term": heatmap(steps.mask_term, labels, labels, title=titles["mask-term"], kind="term", mask=mask,
                             clickable=True, **size),
        # the masked logits keep the raw logits' colour scale: hiding the largest logit must not recolour the rest
        "masked-logits": heatmap(steps.masked_logits, labels, labels, title=titles["masked-logits"],
                                 kind="scores", mask=mask, clickable=True, zrange=raw_scale, **size),
        "weights": heatmap(steps.weights, labels, labels, title=titles["weights"], kind="weights", mask=mask,
                           zrange=(0.0, 1.0), clickable=True, **size),
        "output": heatmap(steps.output, output_labels, labels, title=titles["output"], kind="values",
                          x_title="value dimension", **size),
    }
    return figs
