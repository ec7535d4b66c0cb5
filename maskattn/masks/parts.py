"""The table of mask parts: each part of a mask, once, with everything the package says about it.

A part is one row: its name, label and shape, when it is on for a ``MaskSpec``, its NumPy
builder (tutorial convention, 1.0 = blocked) and its rule as one neutral "may attend"
predicate, written over a few placeholders that every library's dialect names its own way
(the shape of Hugging Face's ``masking_utils``: predicates combined with and / or):

    {q}, {kv}        the query's and the key's positions
    {id_q}, {id_k}   the query's and the key's token ids (the pad token is 0)
    {doc_q}, {doc_k} the query's and the key's document (packed sequences)
    {drawn}          the drawn mask's cell (1 = blocked)
    WINDOW, PREFIX   the window and the prefix length, named constants in generated code
                     (WINDOW_RIGHT, CHUNK and LEFT_PADDING likewise)

Most parts *block* (their masks combine by the element-wise maximum). Global tokens *open*:
they lift the parts marked ``lifted`` (the window's two sides and the chunks) for their rows
and columns, as Longformer's global attention does; a dialect writes such a part's rule as
``(its rule) | (the global rule)``. A part whose rule depends on the spec (the global
positions) spells it with ``spell``.

``MaskSpec`` builds and describes its mask by walking this table; codegen renders each
predicate in a library's dialect (``frameworks._dialect``); the Conventions page and the
Masks page name the parts from it. A new part is one more row here (and, where a library
has a call of its own for it, one entry in that library's dialect).

>>> [part.name for part in PARTS]
['padding', 'query_padding', 'look_ahead', 'prefix', 'window', 'window_right', 'chunk', 'global_tokens', 'shared_prefix', 'document', 'drawn']
>>> PART["window"].rule("attend", "keys")
'{q} - {kv} < WINDOW'
>>> PART["prefix"].rule("blocked")
'({kv} > {q}) & ({kv} >= PREFIX)'
>>> from maskattn.masks import MaskSpec
>>> PART["global_tokens"].rule("attend", spec=MaskSpec(window=2, global_tokens=(0, 3)))
'({q} == 0) | ({q} == 3) | ({kv} == 0) | ({kv} == 3)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..errors import MaskAttnError
from .basic import create_look_ahead_mask, create_padding_mask, create_query_padding_mask
from .patterns import (chunk_overlay, create_document_mask, create_prefix_lm_mask, global_overlay, left_padding,
                       segment_id_array, shared_prefix_ids, shared_prefix_overlay, split_evenly, window_ahead_overlay,
                       window_overlay)

if TYPE_CHECKING:                                   # MaskSpec walks this table: no import at run time
    from .spec import MaskSpec

#: the placeholders a rule may use, and what each stands for (every dialect names them all)
PLACEHOLDERS = ("q", "kv", "id_q", "id_k", "doc_q", "doc_k", "drawn")


@dataclass(frozen=True)
class Batch:
    """What a part's builder reads: the token ids ``(B, T)``, the pad id and the segment ids."""

    ids: np.ndarray                   # (B, T) ints
    pad_id: int = 0
    segment_ids: np.ndarray | None = None   # (B, T) ints, when packed

    @property
    def T(self) -> int:
        return self.ids.shape[1]

    @property
    def left_padding(self) -> np.ndarray:
        """``(B,)`` pads before each row's first real token (where its chunks start)."""
        return left_padding(self.ids, self.pad_id)


def _window_words(spec: MaskSpec) -> str:
    w = spec.window
    rule = f"q − kv < {w}: {w} keys" if spec.window_rule == "keys" else f"q − kv ≤ {w}: {w + 1} keys"
    return f"sliding window {w} ({rule})"


def _window_data(spec: MaskSpec, state) -> str:
    w = spec.window
    return f"{w}  # sliding window: " + (
        f"{w} keys, itself included (q - kv < {w}, Hugging Face's count)" if spec.window_rule == "keys"
        else f"keys up to {w} back, {w + 1} keys (q - kv <= {w}, FlashAttention's and JAX's count)")


def _prefix(spec: MaskSpec, batch: Batch) -> np.ndarray:
    if spec.prefix_length > batch.T:
        raise MaskAttnError(f"prefix_length must be at most the sequence length {batch.T}, got {spec.prefix_length}")
    return create_prefix_lm_mask(batch.T, spec.prefix_length)                        # (T, T)


def completion_lengths(spec: MaskSpec, size: int) -> tuple[int, ...]:
    """The lengths of ``spec``'s completions after its shared prefix in ``size`` tokens (split evenly)."""
    if spec.shared_prefix + spec.completions > size:
        raise MaskAttnError(f"a shared prefix of {spec.shared_prefix} and {spec.completions} completions need at least "
                            f"{spec.shared_prefix + spec.completions} tokens, the sequences have {size}")
    return split_evenly(size - spec.shared_prefix, spec.completions)


def _shared_prefix(spec: MaskSpec, batch: Batch) -> np.ndarray:
    return shared_prefix_overlay(spec.shared_prefix, completion_lengths(spec, batch.T))   # (T, T)


def _shared_prefix_data(spec: MaskSpec, state) -> str:
    ids = shared_prefix_ids(spec.shared_prefix, completion_lengths(spec, len(state.ids))).tolist()
    return f"{ids!r}  # 0 = the shared prefix, then each completion: a completion sees the prefix and itself"


def _global_rule(spec: MaskSpec, polarity: str) -> str:
    if polarity == "attend":
        return " | ".join(f"({{{p}}} == {g})" for p in ("q", "kv") for g in spec.global_tokens)
    return " & ".join(f"({{{p}}} != {g})" for p in ("q", "kv") for g in spec.global_tokens)


def _global_overlay(spec: MaskSpec, batch: Batch) -> np.ndarray:
    return global_overlay(batch.T, spec.global_tokens)                                # (T, T) 1 = opened


def _chunk_data(spec: MaskSpec, state) -> str:
    pads = int(left_padding([state.ids])[0])
    return (f"{spec.chunk}  # chunked attention: a query sees its own chunk of {spec.chunk}, causally\n"
            f"LEFT_PADDING = {pads}  # pads before the first token: the chunks start after them (Hugging Face)")


def _document(spec: MaskSpec, batch: Batch) -> np.ndarray:
    if batch.segment_ids is None:
        raise MaskAttnError("segments is on, so segment_ids (B, T) are needed, got None")
    seg = segment_id_array(batch.segment_ids)
    if seg.shape != batch.ids.shape:
        raise MaskAttnError(f"segment_ids must have the shape of ids {batch.ids.shape}, got shape {seg.shape}")
    return create_document_mask(seg)[:, np.newaxis]                                  # (B, 1, T, T)


def _drawn(spec: MaskSpec, batch: Batch) -> np.ndarray:
    drawn = np.array(spec.drawn, dtype=np.float32)                                   # (T, T)
    if drawn.shape != (batch.T, batch.T):
        raise MaskAttnError(f"the drawn mask is {drawn.shape[0]}×{drawn.shape[1]} but the sequences have {batch.T} "
                            f"tokens: draw a {batch.T}×{batch.T} mask")
    return drawn


@dataclass(frozen=True)
class MaskPart:
    """One part of a mask: what it is called, when it is on, how NumPy builds it, and its rule."""

    name: str                                  # the key, in the order parts are combined
    label: str                                 # a few words, for tables and shape listings
    shape: str                                 # the shape it broadcasts from
    on: Callable[[MaskSpec], bool]             # is it part of this spec's mask
    build: Callable[[MaskSpec, Batch], np.ndarray]   # NumPy, 1.0 = blocked, in ``shape``
    attend: str                                # the rule: when a query may attend to a key
    blocked: str                               # the same rule, negated and written out
    note: str                                  # what it blocks, for a code comment
    words: Callable[[MaskSpec], str]           # how ``MaskSpec.describe`` names it
    newer: str | None = None                   # its column on the Conventions page (the masks beyond the tutorial)
    field: str | None = None                   # the MaskSpec field it reads its number from, if any
    constant: str | None = None                # that number's name in generated code (WINDOW, PREFIX, …)
    data: Callable[[MaskSpec, object], str] | None = None   # (spec, code state) -> the constant's value  # comment
    lifted: bool = False                       # global tokens open it for their rows and columns
    opens: bool = False                        # it opens cells of the lifted parts instead of blocking any
    spell: Callable[[MaskSpec, str], str] | None = None   # (spec, polarity) -> the rule, when it depends on spec

    def rule(self, polarity: str = "attend", window_rule: str = "keys", spec: MaskSpec | None = None) -> str:
        """The rule as "may attend" (``polarity="attend"``) or "blocked", with the window's count filled in
        (and, for a part that ``spell``s its rule, ``spec``'s numbers)."""
        if self.spell is not None and spec is not None:
            return self.spell(spec, polarity)
        text = self.attend if polarity == "attend" else self.blocked
        keys = window_rule == "keys"
        return text.replace("{lt}", "<" if keys else "<=").replace("{ge}", ">=" if keys else ">")


PARTS: tuple[MaskPart, ...] = (
    MaskPart("padding", "padding", "(B, 1, 1, Tk)", lambda s: s.padding,
             lambda s, b: create_padding_mask(b.ids, b.pad_id),
             "{id_k} != 0", "{id_k} == 0", "pad keys blocked", lambda s: "padding"),
    MaskPart("query_padding", "query padding", "(B, 1, Tq, 1)", lambda s: s.query_padding,
             lambda s, b: create_query_padding_mask(b.ids, b.pad_id),
             "{id_q} != 0", "{id_q} == 0", "padded query rows blocked", lambda s: "query padding"),
    MaskPart("look_ahead", "look-ahead", "(Tq, Tk)", lambda s: s.is_causal and s.prefix_length is None,
             lambda s, b: create_look_ahead_mask(b.T),
             "{kv} <= {q}", "{kv} > {q}", "causal: future keys blocked", lambda s: "look-ahead"),
    MaskPart("prefix", "prefix LM", "(Tq, Tk)", lambda s: s.prefix_length is not None, _prefix,
             "({kv} <= {q}) | ({kv} < PREFIX)", "({kv} > {q}) & ({kv} >= PREFIX)",
             "prefix LM: the prefix, then causal",
             lambda s: f"prefix LM of {s.prefix_length} (bidirectional prefix, causal after)", newer="prefix LM",
             field="prefix_length", constant="PREFIX",
             data=lambda s, seg: f"{s.prefix_length}  # prefix LM: every query sees the first {s.prefix_length} keys, "
                                 "causal after them"),
    MaskPart("window", "sliding window", "(Tq, Tk)", lambda s: s.window is not None,
             lambda s, b: window_overlay(b.T, s.window, s.window_rule),
             "{q} - {kv} {lt} WINDOW", "{q} - {kv} {ge} WINDOW", "sliding window: keys too far back blocked",
             _window_words, newer="sliding window", field="window", constant="WINDOW", data=_window_data, lifted=True),
    MaskPart("window_right", "window, keys ahead", "(Tq, Tk)", lambda s: s.window_right is not None,
             lambda s, b: window_ahead_overlay(b.T, s.window_right),
             "{kv} - {q} <= WINDOW_RIGHT", "{kv} - {q} > WINDOW_RIGHT", "two-sided window: keys too far ahead blocked",
             lambda s: f"{s.window_right} key{'s' * (s.window_right != 1)} ahead (two-sided window)",
             newer="two-sided window", field="window_right", constant="WINDOW_RIGHT",
             data=lambda s, st: f"{s.window_right}  # two-sided window: the keys after the query it also sees",
             lifted=True),
    MaskPart("chunk", "chunks", "(B, 1, Tq, Tk)", lambda s: s.chunk is not None,
             lambda s, b: chunk_overlay(b.T, s.chunk, b.left_padding),
             "({q} - LEFT_PADDING) // CHUNK == ({kv} - LEFT_PADDING) // CHUNK",
             "({q} - LEFT_PADDING) // CHUNK != ({kv} - LEFT_PADDING) // CHUNK", "chunked: keys of other chunks blocked",
             lambda s: f"chunks of {s.chunk} (Llama 4)", newer="chunked", field="chunk", constant="CHUNK",
             data=_chunk_data, lifted=True),
    MaskPart("global_tokens", "global tokens", "(Tq, Tk)", lambda s: bool(s.global_tokens), _global_overlay,
             "is_global[{q}] | is_global[{kv}]", "~is_global[{q}] & ~is_global[{kv}]",
             "global tokens: their rows and columns open",
             lambda s: "global token" + "s" * (len(s.global_tokens) != 1) + " " + ", ".join(map(str, s.global_tokens)),
             newer="global tokens", field="global_tokens", opens=True, spell=_global_rule),
    MaskPart("shared_prefix", "shared prefix", "(Tq, Tk)", lambda s: s.shared_prefix is not None, _shared_prefix,
             "({doc_k} == 0) | ({doc_q} == {doc_k})", "({doc_k} != 0) & ({doc_q} != {doc_k})",
             "shared prefix: other completions blocked",
             lambda s: f"shared prefix of {s.shared_prefix}, {s.completions} completions", newer="shared prefix",
             field="shared_prefix", constant="document_ids", data=_shared_prefix_data),
    MaskPart("document", "document", "(B, 1, Tq, Tk)", lambda s: s.segments, _document,
             "{doc_q} == {doc_k}", "{doc_q} != {doc_k}", "other documents blocked", lambda s: "documents",
             newer="packed documents", field="segments", constant="document_ids",
             data=lambda s, st: f"{segment_id_array(st.segment_ids).tolist()!r}  # packed documents (0 = padding)"),
    MaskPart("drawn", "drawn", "(Tq, Tk)", lambda s: s.drawn is not None, _drawn,
             "{drawn} == 0", "{drawn} == 1", "the drawn mask (1 = blocked)",
             lambda s: f"a drawn {len(s.drawn)}×{len(s.drawn)} mask", newer="any mask (drawn)", field="drawn",
             constant="DRAWN", data=lambda s, st: "[\n" + "".join(f"    {list(row)!r},\n" for row in s.drawn)
             + "]  # the mask drawn by hand, 1 = blocked (the tutorial's convention)"),
)
#: the same table by name
PART: dict[str, MaskPart] = {part.name: part for part in PARTS}
#: the parts beyond the tutorial's padding and look-ahead, by name -> their Conventions column
NEWER_PARTS: dict[str, str] = {part.name: part.newer for part in PARTS if part.newer}


def parts_on(spec: MaskSpec) -> tuple[MaskPart, ...]:
    """The parts ``spec`` switches on, in the order they combine."""
    return tuple(part for part in PARTS if part.on(spec))
