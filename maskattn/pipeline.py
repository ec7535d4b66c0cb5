"""Inputs in, every number the Playground shows out.

``compute(inputs)`` tokenizes the text (padded on the chosen side, or packed into one
row), builds the masks the inputs ask for with one ``MaskSpec``, makes Q, K, V and runs
``attention_steps`` for the sequence on view. Pages call this (through a cache keyed on
the frozen ``Inputs``) and hand the arrays to the figure builders. View state (the
inspector's row, presentation mode) never reaches it.

>>> from maskattn.state import Inputs
>>> result = compute(Inputs())
>>> result.labels
['0·the', '1·cat', '2·sat', '3·<pad>', '4·<pad>', '5·<pad>']
>>> result.steps.weights.shape
(6, 6)
>>> float(result.leaked.max())
0.0
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .attention import AttentionSteps, attention_steps, leaked_mass
from .bias import parse_bias_matrix, position_bias
from .masks import MaskSpec, fully_masked_rows
from .state import Inputs
from .tokens import TokenBatch, embed, position_labels, project_qkv, tokenize


@dataclass(frozen=True)
class PlaygroundResult:
    """What the Playground shows for one sequence of the batch (``T`` tokens)."""

    inputs: Inputs
    batch: TokenBatch
    sequence: int                  # index of the sequence on view
    labels: list[str]              # T unique axis labels ("2·cat")
    mask: np.ndarray               # (T, T) float32, 1 = blocked (zeros when no mask is on)
    q: np.ndarray                  # (T, d) float64, before rounding to dtype
    k: np.ndarray                  # (T, d)
    v: np.ndarray                  # (T, d)
    steps: AttentionSteps          # every intermediate, (T, T) / (T, d), in dtype
    unmasked: AttentionSteps       # the same with no mask (the bias kept), for comparison
    notices: tuple[str, ...]       # input that was cut or replaced, in plain words
    spec: MaskSpec = MaskSpec()    # the masks applied, fitted to the tokens (fitted_spec)
    bias: np.ndarray | None = None   # (T, T) float64 the position bias as given, before rounding (fitted_bias)

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.batch.tokens[self.sequence]

    @property
    def has_mask(self) -> bool:
        """A mask was switched on (even one that blocks nothing): there is a mask term."""
        return self.steps.has_mask

    @property
    def mask_active(self) -> bool:
        """The mask blocks at least one cell."""
        return bool(self.mask.any())

    @property
    def row_sums(self) -> np.ndarray:
        """(T,) sum of each weight row, exact in float64."""
        return self.steps.weights.astype(np.float64).sum(axis=-1)

    @property
    def has_nan(self) -> np.ndarray:
        """(T,) True where a row has a NaN weight."""
        return np.isnan(self.steps.weights.astype(np.float64)).any(axis=-1)

    @property
    def leaked(self) -> np.ndarray:
        """(T,) weight on blocked keys per row (NaN for NaN rows)."""
        return leaked_mass(self.steps.weights, self.mask)

    @property
    def fully_masked(self) -> np.ndarray:
        """(T,) True where every key of the row is blocked."""
        return fully_masked_rows(self.mask)


def tokenize_inputs(inputs: Inputs) -> TokenBatch:
    """The batch the inputs describe: padded on ``padding_side``, or packed into one row."""
    return tokenize(inputs.text, inputs.pad_token, padding_side=inputs.padding_side, packed=inputs.packed)


def fitted_spec(inputs: Inputs, size: int) -> tuple[MaskSpec, tuple[str, ...]]:
    """``inputs.mask_spec`` fitted to sequences of ``size`` tokens, and a notice for each change.

    A prefix longer than the sequences is cut to their length; a drawn mask of another
    size is left out (it cannot be laid on these tokens). A shared link never fails on either.

    >>> spec, notices = fitted_spec(Inputs(prefix_length=9, drawn="01-00"), 6)
    >>> spec.prefix_length, spec.drawn
    (6, None)
    >>> print(notices[1])
    The drawn mask is 2×2 but the sequences have 6 tokens, so it is not applied: draw a 6×6 mask on the Masks page, or type 2 tokens.
    """
    spec, notices = inputs.mask_spec, []
    if spec.prefix_length is not None and spec.prefix_length > size:
        notices.append(f"The prefix of {spec.prefix_length} is longer than the {size} tokens; it is cut to {size} "
                       "(every query then sees every key).")
        spec = replace(spec, prefix_length=size)
    if inputs.window and inputs.window_right and spec.window_right is None:
        blocker = inputs.future_blockers()[0]
        notices.append(f"The window's {inputs.window_right} keys ahead are not applied: {blocker} blocks every key "
                       "ahead. Turn it off for a two-sided window.")
    if inputs.global_tokens and not spec.global_tokens:
        notices.append(f"The global tokens {inputs.global_tokens} are not applied: they lift a sliding window or "
                       "chunks, and neither is on.")
    beyond = [p for p in spec.global_tokens if p >= size]
    if beyond:
        notices.append(f"Global token position{'s' * (len(beyond) > 1)} {', '.join(map(str, beyond))} "
                       f"{'are' if len(beyond) > 1 else 'is'} past the {size} tokens (positions 0 to {size - 1}), "
                       "so left out.")
        spec = replace(spec, global_tokens=tuple(p for p in spec.global_tokens if p < size))
    if inputs.shared_prefix and inputs.packed:
        notices.append("The shared prefix is not applied to packed lines: the documents already split the row. "
                       "Unpack them for a shared prefix.")
    if spec.shared_prefix is not None and spec.shared_prefix + spec.completions > size:
        cut = max(size - spec.completions, 0)
        completions = min(spec.completions, size)
        notices.append(f"A shared prefix of {spec.shared_prefix} and {spec.completions} completions need "
                       f"{spec.shared_prefix + spec.completions} tokens, the sequences have {size}; "
                       f"using a prefix of {min(cut, spec.shared_prefix)} and {completions} completion"
                       f"{'s' * (completions != 1)}.")
        spec = replace(spec, shared_prefix=min(cut, spec.shared_prefix), completions=completions)
    if spec.drawn is not None and len(spec.drawn) != size:
        n = len(spec.drawn)
        notices.append(f"The drawn mask is {n}×{n} but the sequences have {size} tokens, so it is not applied: "
                       f"draw a {size}×{size} mask on the Masks page, or type {n} tokens.")
        spec = replace(spec, drawn=None)
    return spec, tuple(notices)


def fitted_bias(inputs: Inputs, size: int) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """The position bias the inputs ask for, ``(size, size)`` float64 (None: none), and a notice when a typed one
    cannot be laid on these tokens.

    >>> fitted_bias(Inputs(bias="typed", bias_matrix="0,-1;-inf,0"), 3)[1][0][:60]
    'The typed bias is 2×2 but the sequences have 3 tokens, so it'
    """
    if inputs.bias != "typed":
        return position_bias(inputs.bias, size, inputs.bias_head), ()
    if not inputs.bias_matrix:
        return None, (f"No bias matrix is typed yet: type {size} rows of {size} numbers in the sidebar (-inf masks "
                      "a cell).",)
    bias = parse_bias_matrix(inputs.bias_matrix)
    if bias.shape[0] != size:
        n = bias.shape[0]
        return None, (f"The typed bias is {n}×{n} but the sequences have {size} tokens, so it is not applied: type a "
                      f"{size}×{size} matrix.",)
    return bias, ()


def compute(inputs: Inputs) -> PlaygroundResult:
    """Run the whole pipeline for ``inputs`` (raises ``MaskAttnError`` on bad input)."""
    batch = tokenize_inputs(inputs)
    B, T = batch.ids.shape
    notices = list(batch.notices)
    sequence = inputs.sequence
    if sequence >= B:
        notices.append(f"Sequence {sequence + 1} does not exist (there are {B}); showing sequence 1.")
        sequence = 0

    spec, fitted = fitted_spec(inputs, T)
    notices += fitted
    mask = spec.build(batch.ids, segment_ids=batch.segment_ids)                # (B, 1, T, T) or None
    view_mask = np.zeros((T, T), np.float32) if mask is None else mask[sequence, 0]   # (T, T)

    x = embed(batch.tokens[sequence:sequence + 1], inputs.d_model, inputs.seed,
              inputs.positional)[0]                                            # (T, d)
    q, k, v = project_qkv(x, inputs.seed, inputs.qk_mode)                     # (T, d) each
    bias, more = fitted_bias(inputs, T)                                       # (T, T) float64 or None
    notices += more
    options = dict(mask_value=inputs.mask_value, dtype=inputs.dtype, method=inputs.method, scale=inputs.scale,
                   bias=bias)
    steps = attention_steps(q, k, v, view_mask if mask is not None else None, **options)
    unmasked = attention_steps(q, k, v, None, **options) if mask is not None else steps
    return PlaygroundResult(inputs, batch, sequence, position_labels(batch.tokens[sequence]),
                            view_mask, q, k, v, steps, unmasked, tuple(notices), spec, bias)
