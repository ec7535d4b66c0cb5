"""``MaskSpec``: one frozen description of which masks are on, and the one place they are built.

>>> spec = MaskSpec(padding=True, causal=True)
>>> spec.describe()
'padding + look-ahead'
>>> spec.build([[5, 6, 0]])[0, 0].tolist()         # (B, 1, Tq, Tk): the tutorial's combined mask
[[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
>>> MaskSpec().build([[5, 6, 0]]) is None          # nothing on: no mask at all
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MaskAttnError
from .basic import (check_int, combine_masks, create_look_ahead_mask, create_padding_mask,
                    create_query_padding_mask, token_id_array)
from .drawn import validate_drawn
from .patterns import (WINDOW_RULES, create_document_mask, create_prefix_lm_mask, segment_id_array,
                       window_overlay)

#: every part a spec can switch on, in the order they are combined: (name, shape it broadcasts from)
MASK_PARTS: dict[str, tuple[str, str]] = {
    "padding": ("padding", "(B, 1, 1, Tk)"),
    "query_padding": ("query padding", "(B, 1, Tq, 1)"),
    "look_ahead": ("look-ahead", "(Tq, Tk)"),
    "window": ("sliding window", "(Tq, Tk)"),
    "prefix": ("prefix LM", "(Tq, Tk)"),
    "document": ("document", "(B, 1, Tq, Tk)"),
    "drawn": ("drawn", "(Tq, Tk)"),
}


@dataclass(frozen=True)
class MaskSpec:
    """Which masks are on. Hashable, so it can key a cache; ``build`` makes the combined mask.

    Where the pads sit (left or right) and whether the lines were packed into one row are
    facts of the *batch*, chosen when tokenizing (``tokenize(padding_side=, packed=)``): the
    masks here are computed from the token ids and segment ids wherever the pads are, and a
    packed batch without ``segments`` is a real configuration (the leak it causes is one of
    the things the app shows).

    ``window`` and ``prefix_length`` are causal patterns: they bring the look-ahead with them
    whether or not ``causal`` is set. A prefix LM replaces the look-ahead part (the maximum
    with the look-ahead would close the prefix again); a window is laid over either as the
    keys too far back, so a prefix stays open within the window.

    >>> MaskSpec(window=2).describe()
    'look-ahead + sliding window 2 (q − kv < 2: 2 keys)'
    >>> MaskSpec(window=0)
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: window must be None or an integer >= 1, got 0
    """

    padding: bool = False                 # block pad keys (create_padding_mask), (B, 1, 1, Tk)
    query_padding: bool = False           # also block pad query rows (Keras / Flax), (B, 1, Tq, 1)
    causal: bool = False                  # block future keys (create_look_ahead_mask), (Tq, Tk)
    window: int | None = None             # sliding window: keys a query sees (see window_rule)
    window_rule: str = "keys"             # a key of WINDOW_RULES: how the window is counted
    prefix_length: int | None = None      # prefix LM: keys every query sees, causal after
    segments: bool = False                # block keys of other packed documents (create_document_mask)
    drawn: tuple[tuple[int, ...], ...] | None = None   # a T×T 0/1 mask typed or clicked by hand

    def __post_init__(self):
        for name in ("padding", "query_padding", "causal", "segments"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise MaskAttnError(f"{name} must be True or False, got {getattr(self, name)!r}")
            object.__setattr__(self, name, bool(getattr(self, name)))
        for name, low in (("window", 1), ("prefix_length", 0)):
            value = getattr(self, name)
            if value is not None:
                try:
                    object.__setattr__(self, name, check_int(value, name, low))
                except MaskAttnError:
                    raise MaskAttnError(f"{name} must be None or an integer >= {low}, got {value!r}") from None
        if not isinstance(self.window_rule, str) or self.window_rule not in WINDOW_RULES:
            raise MaskAttnError(f"window_rule must be one of {', '.join(WINDOW_RULES)}, got {self.window_rule!r}")
        if self.drawn is not None:
            object.__setattr__(self, "drawn", validate_drawn(self.drawn))

    @property
    def is_causal(self) -> bool:
        """True when some part blocks the future (causal, a window or a prefix LM)."""
        return self.causal or self.window is not None or self.prefix_length is not None

    def parts(self, ids, pad_id: int = 0, segment_ids=None) -> dict[str, np.ndarray]:
        """The component masks that are on, each in its own broadcastable shape (see ``MASK_PARTS``).

        ids: ``(B, T)`` token ids; segment_ids: ``(B, T)`` integers, needed when ``segments`` is on.
        The order is the order of ``MASK_PARTS``; ``build`` is their element-wise maximum.

        >>> {name: part.shape for name, part in MaskSpec(padding=True, causal=True).parts([[3, 0]]).items()}
        {'padding': (1, 1, 1, 2), 'look_ahead': (2, 2)}
        """
        ids = token_id_array(ids, "ids")
        if ids.ndim != 2:
            raise MaskAttnError(f"ids must have shape (B, T), got shape {ids.shape}")
        T = ids.shape[1]
        parts = {}
        if self.padding:
            parts["padding"] = create_padding_mask(ids, pad_id)              # (B, 1, 1, T)
        if self.query_padding:
            parts["query_padding"] = create_query_padding_mask(ids, pad_id)  # (B, 1, T, 1)
        if self.is_causal and self.prefix_length is None:
            parts["look_ahead"] = create_look_ahead_mask(T)                  # (T, T)
        if self.window is not None:
            parts["window"] = window_overlay(T, self.window, self.window_rule)  # (T, T)
        if self.prefix_length is not None:
            if self.prefix_length > T:
                raise MaskAttnError(f"prefix_length must be at most the sequence length {T}, "
                                    f"got {self.prefix_length}")
            parts["prefix"] = create_prefix_lm_mask(T, self.prefix_length)   # (T, T)
        if self.segments:
            if segment_ids is None:
                raise MaskAttnError("segments is on, so segment_ids (B, T) are needed, got None")
            seg = segment_id_array(segment_ids)
            if seg.shape != ids.shape:
                raise MaskAttnError(f"segment_ids must have the shape of ids {ids.shape}, got shape {seg.shape}")
            parts["document"] = create_document_mask(seg)[:, np.newaxis]     # (B, 1, T, T)
        if self.drawn is not None:
            drawn = np.array(self.drawn, dtype=np.float32)                   # (T, T)
            if drawn.shape != (T, T):
                raise MaskAttnError(f"the drawn mask is {drawn.shape[0]}×{drawn.shape[1]} but the sequences "
                                    f"have {T} tokens: draw a {T}×{T} mask")
            parts["drawn"] = drawn
        return parts

    def build(self, ids, pad_id: int = 0, segment_ids=None) -> np.ndarray | None:
        """The combined mask ``(B, 1, T, T)`` float32 (1 = blocked), or None when no part is on.

        None, not a mask of zeros: the tutorial's ``if mask is not None`` adds no mask term at all.

        >>> MaskSpec(segments=True).build([[4, 5, 6]], segment_ids=[[1, 1, 2]])[0, 0].tolist()
        [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
        """
        parts = self.parts(ids, pad_id, segment_ids)
        if not parts:
            return None
        B, T = np.shape(ids)
        return np.broadcast_to(combine_masks(*parts.values()), (B, 1, T, T)).copy()   # (B, 1, T, T)

    def describe(self) -> str:
        """The parts that are on, in plain words ("no mask" when none is).

        >>> MaskSpec(padding=True, query_padding=True, prefix_length=3, segments=True).describe()
        'padding + query padding + prefix LM of 3 (bidirectional prefix, causal after) + documents'
        """
        words = []
        if self.padding:
            words.append("padding")
        if self.query_padding:
            words.append("query padding")
        if self.prefix_length is not None:
            words.append(f"prefix LM of {self.prefix_length} (bidirectional prefix, causal after)")
        elif self.is_causal:
            words.append("look-ahead")
        if self.window is not None:
            w = self.window
            rule = f"q − kv < {w}: {w} keys" if self.window_rule == "keys" else f"q − kv ≤ {w}: {w + 1} keys"
            words.append(f"sliding window {w} ({rule})")
        if self.segments:
            words.append("documents")
        if self.drawn is not None:
            words.append(f"a drawn {len(self.drawn)}×{len(self.drawn)} mask")
        return " + ".join(words) or "no mask"
