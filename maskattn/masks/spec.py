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
from .basic import check_int, combine_masks, token_id_array
from .drawn import validate_drawn
from .parts import PARTS, Batch, parts_on
from .patterns import WINDOW_RULES, global_positions

#: every part a spec can switch on, in the order they are combined: name -> (label, shape it broadcasts from)
MASK_PARTS: dict[str, tuple[str, str]] = {part.name: (part.label, part.shape) for part in PARTS}


@dataclass(frozen=True)
class MaskSpec:
    """Which masks are on. Hashable, so it can key a cache; ``build`` makes the combined mask.

    Where the pads sit (left or right) and whether the lines were packed into one row are
    facts of the *batch*, chosen when tokenizing (``tokenize(padding_side=, packed=)``): the
    masks here are computed from the token ids and segment ids wherever the pads are, and a
    packed batch without ``segments`` is a real configuration (the leak it causes is one of
    the things the app shows).

    ``window``, ``prefix_length``, ``chunk`` and ``shared_prefix`` are causal patterns: they bring
    the look-ahead with them whether or not ``causal`` is set. A window with ``window_right``
    keys ahead is two-sided (Longformer, JAX ``local_window_size=(left, right)``), so it brings
    none, and goes with no causal part. ``global_tokens`` lift the window and the chunks for
    their rows and columns (Longformer, BigBird); they never open padding, documents, the
    future or a drawn mask. A prefix LM replaces the look-ahead part (the maximum
    with the look-ahead would close the prefix again); a window is laid over either as the
    keys too far back, so a prefix stays open within the window.

    >>> MaskSpec(window=2).describe()
    'look-ahead + sliding window 2 (q − kv < 2: 2 keys)'
    >>> MaskSpec(window=2, window_right=1, global_tokens=(0,)).describe()
    'sliding window 2 (q − kv < 2: 2 keys) + 1 key ahead (two-sided window) + global token 0'
    >>> MaskSpec(window=0)
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: window must be None or an integer >= 1, got 0
    >>> MaskSpec(causal=True, window=2, window_right=1)
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: a two-sided window (window_right=1) looks ahead, so it cannot go with the causal mask: turn that off
    """

    padding: bool = False                 # block pad keys (create_padding_mask), (B, 1, 1, Tk)
    query_padding: bool = False           # also block pad query rows (Keras / Flax), (B, 1, Tq, 1)
    causal: bool = False                  # block future keys (create_look_ahead_mask), (Tq, Tk)
    window: int | None = None             # sliding window: keys a query sees (see window_rule)
    window_rule: str = "keys"             # a key of WINDOW_RULES: how the window is counted
    prefix_length: int | None = None      # prefix LM: keys every query sees, causal after
    segments: bool = False                # block keys of other packed documents (create_document_mask)
    drawn: tuple[tuple[int, ...], ...] | None = None   # a T×T 0/1 mask typed or clicked by hand
    window_right: int | None = None       # two-sided window: the keys after the query it also sees
    chunk: int | None = None              # chunked attention: chunk size (causal within the chunk)
    global_tokens: tuple[int, ...] = ()   # positions that see and are seen past the window / chunks
    shared_prefix: int | None = None      # a prompt shared by ``completions`` completions in one row
    completions: int = 2                  # how many completions follow the shared prefix (split evenly)

    def __post_init__(self):
        for name in ("padding", "query_padding", "causal", "segments"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise MaskAttnError(f"{name} must be True or False, got {getattr(self, name)!r}")
            object.__setattr__(self, name, bool(getattr(self, name)))
        for name, low in (("window", 1), ("prefix_length", 0), ("window_right", 0), ("chunk", 1),
                          ("shared_prefix", 0)):
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
        object.__setattr__(self, "completions", check_int(self.completions, "completions", 1))
        object.__setattr__(self, "global_tokens", global_positions(self.global_tokens))
        self._check_combination()

    def _check_combination(self) -> None:
        if self.window_right is not None:
            if self.window is None:
                raise MaskAttnError(f"window_right={self.window_right} is the right side of a window: set window "
                                    "(its left side) too")
            causal = self.future_blockers()
            if causal:
                raise MaskAttnError(f"a two-sided window (window_right={self.window_right}) looks ahead, so it cannot go "
                                    f"with {causal[0]}: turn that off")
        if self.global_tokens and self.window is None and self.chunk is None:
            raise MaskAttnError(f"global tokens {list(self.global_tokens)} lift a sliding window or chunks: "
                                "turn one of them on")
        if self.shared_prefix is not None and self.segments:
            raise MaskAttnError("a shared prefix and packed documents both split the row: use one of them")

    def future_blockers(self) -> tuple[str, ...]:
        """The parts other than a window that block every key ahead, in words (a two-sided window goes with none).

        >>> MaskSpec(causal=True, chunk=2).future_blockers()
        ('the causal mask', 'chunks')
        """
        return tuple(name for name, on in (("the causal mask", self.causal),
                                           ("a prefix LM", self.prefix_length is not None),
                                           ("chunks", self.chunk is not None),
                                           ("a shared prefix", self.shared_prefix is not None)) if on)

    @property
    def is_causal(self) -> bool:
        """True when some part blocks the future (causal, a one-sided window, a prefix LM, chunks, a shared prefix)."""
        return bool(self.future_blockers()) or (self.window is not None and self.window_right is None)

    def parts(self, ids, pad_id: int = 0, segment_ids=None) -> dict[str, np.ndarray]:
        """The component masks that are on, each in its own broadcastable shape (``masks.parts.PARTS``).

        ids: ``(B, T)`` token ids; segment_ids: ``(B, T)`` integers, needed when ``segments`` is on.
        The order is the table's; ``build`` is their element-wise maximum. Global tokens are not
        among them: they have already opened their rows and columns of the window and the chunks.

        >>> {name: part.shape for name, part in MaskSpec(padding=True, causal=True).parts([[3, 0]]).items()}
        {'padding': (1, 1, 1, 2), 'look_ahead': (2, 2)}
        """
        ids = token_id_array(ids, "ids")
        if ids.ndim != 2:
            raise MaskAttnError(f"ids must have shape (B, T), got shape {ids.shape}")
        batch = Batch(ids, pad_id, segment_ids)
        on = parts_on(self)
        opened = [part.build(self, batch) for part in on if part.opens]              # (Tq, Tk) 1 = opened
        built = {}
        for part in on:
            if part.opens:
                continue
            mask = part.build(self, batch)
            for lift in opened if part.lifted else ():
                mask = (mask * (1.0 - lift)).astype(np.float32)
            built[part.name] = mask
        return built

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
        return " + ".join(part.words(self) for part in parts_on(self)) or "no mask"
