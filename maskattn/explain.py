"""Plain-language verdicts built from the real numbers of a result.

Pure text, no markup: the UI escapes it before display (tokens are user text).

>>> from maskattn.state import Inputs
>>> from maskattn.pipeline import compute
>>> print(verdicts(compute(Inputs(dtype="float16")))[0])
The constant -1e9 does not fit in float16 (its largest magnitude is 65504), so it becomes -inf.
"""

from __future__ import annotations

from dataclasses import replace
import math

import numpy as np

from .attention import attention_steps
from .bias import BIAS_NAMES
from .fully_masked import ROW_KINDS, classify_row, fully_masked_reason  # noqa: F401 (ROW_KINDS: public here too)
from .lab import fully_masked_table
from .masks import WINDOW_RULES, left_padding_verdict, packing_leak_verdict, window_reach, window_rule_verdict
from .masks.parts import completion_lengths
from .masks.patterns import left_padding, shared_prefix_ids
from .numerics import finfo, to_float, underflow_threshold
from .text import count, difference, spell

def polarity_line(result) -> str | None:
    """The classic port bug, named: tokens that read as an attention_mask (1 = attend, 0 = pad) padded with the
    pad token "1", so the tutorial's padding mask (1 = blocked) hides the real positions and lets every query
    attend only to the pads. None when the tokens are not such a mask.

    >>> from maskattn.state import Inputs
    >>> from maskattn.pipeline import compute
    >>> print(polarity_line(compute(Inputs(text="1 1 1 0 0", pad_token="1"))))
    The mask points the wrong way: these tokens read as a Hugging Face / Keras attention_mask (1 = attend, 0 = pad), but the tutorial's mask says 1 = blocked, so it blocks the 3 real positions 0·1, 1·1, 2·1 and every query attends only to the pads 3·0, 4·0 (their weight sums to 1 in each row). Flip it first: mask = 1 - attention_mask.
    """
    s, settings = result.steps, result.inputs
    tokens = list(result.tokens)
    if (not settings.padding or settings.pad_token != "1" or not set(tokens) <= {"0", "1"} or "0" not in tokens
            or not result.mask_active):
        return None
    labels = result.labels
    real = [labels[j] for j, t in enumerate(tokens) if t == "1"]
    pads = [labels[j] for j, t in enumerate(tokens) if t == "0"]
    w = s.weights.astype(np.float64)                                   # (T, T)
    on_pads = w[:, [j for j, t in enumerate(tokens) if t == "0"]].sum(axis=-1)   # (T,)
    finite = on_pads[np.isfinite(on_pads)]
    mass = ("their weight sums to 1 in each row" if finite.size and np.allclose(finite, 1.0)
            else f"they get up to {spell(finite.max(), digits=3)} of each row's weight" if finite.size
            else "its rows are NaN here")
    return (f"The mask points the wrong way: these tokens read as a Hugging Face / Keras attention_mask (1 = attend, "
            f"0 = pad), but the tutorial's mask says 1 = blocked, so it blocks the {len(real)} real positions "
            f"{', '.join(real)} and every query attends only to the pads {', '.join(pads)} ({mass}). Flip it first: "
            "mask = 1 - attention_mask.")


def negative_zero_line(result) -> str | None:
    """Why the mask term shows −0 on the open keys (method add with a negative constant), or None.

    >>> from maskattn.state import Inputs
    >>> from maskattn.pipeline import compute
    >>> print(negative_zero_line(compute(Inputs())))
    −0 in the mask term is 0 × (-1e9): IEEE 754 keeps the sign of a product that is zero, and x + (−0) = x, so an open key's logit passes unchanged.
    """
    s = result.steps
    term = s.mask_term.astype(np.float64)
    if not s.has_mask or s.method != "add" or not np.any((term == 0) & np.signbit(term)):
        return None
    return (f"−0 in the mask term is 0 × ({spell(s.mask_value, s.dtype)}): IEEE 754 keeps the sign of a product that "
            "is zero, and x + (−0) = x, so an open key's logit passes unchanged.")


def verdicts(result) -> list[str]:
    """Sentences that explain the current result with its own numbers."""
    s, settings = result.steps, result.inputs
    dtype, labels = s.dtype, result.labels
    w = s.weights.astype(np.float64)                          # (T, T)
    raw_constant, constant = settings.mask_value, s.mask_value
    blocked = result.mask == 1
    polarity = polarity_line(result)
    out = [polarity] if polarity else []                       # a mask that points the wrong way: the point

    if math.isinf(constant) and math.isfinite(raw_constant):
        out.append(f"The constant {spell(raw_constant, digits=6)} does not fit in {dtype} (its largest magnitude "
                   f"is {spell(finfo(dtype).max, digits=6)}), so it becomes {spell(constant, digits=6)}.")
    if raw_constant > 0:
        out.append(f"The constant {spell(raw_constant, digits=6)} is positive: it boosts the masked keys instead "
                   "of hiding them.")
    elif raw_constant == 0 and s.method in ("add", "fill"):
        out.append("The constant is 0: masking changes nothing, so masked keys are attended as if unmasked.")
    if s.method == "multiply_weights":
        out.append("This method multiplies the weights by the mask after softmax: masked weights are 0, "
                   "but the rows no longer sum to 1 "
                   f"(row {labels[int(np.nanargmin(result.row_sums))]} sums to "
                   f"{spell(np.nanmin(result.row_sums), digits=4)}).")
    if s.method == "zero_logits" and blocked.any():
        out.append("This method sets masked logits to 0, and exp(0 - max) is not 0: masked keys still get weight.")

    if not s.has_mask and s.bias is not None:
        out.append("No mask is on, so there is no mask term at all (the tutorial guards the line with 'if mask is not "
                   "None'): softmax sees the raw logits plus the bias" + (", and where the bias is −inf it masks the key "
                   "itself." if np.isneginf(s.bias.astype(np.float64)).any() else "."))
    elif not s.has_mask:
        out.append(f"No mask is on, so there is no mask term at all (the tutorial guards the line with 'if mask is not None'): the "
                   f"masked logits are the raw logits and each query spreads its weight over all {w.shape[-1]} keys.")
    elif not result.mask_active:
        nan_term = s.method == "add" and np.isnan(s.mask_term.astype(np.float64)).any()
        out.append("The mask is on but blocks nothing here (this sequence has no pad token), so the mask is all "
                   "zeros and it is still applied"
                   + (f": every cell computes 0 x {spell(constant, digits=6)} = NaN in {dtype}." if nan_term else
                      ": softmax sees the raw logits."))

    nan_rows = np.isnan(w).any(axis=-1)
    if nan_rows.any():
        n = int(nan_rows.sum())
        if s.method == "add" and np.isnan(s.mask_term.astype(np.float64)).any():
            out.append(f"{n} of {len(nan_rows)} rows are NaN: the constant is {spell(constant, digits=6)} in "
                       f"{dtype}, and each unmasked cell computes mask x constant = 0 x -inf = NaN, which poisons "
                       "its whole row. Use method 'fill' (a where never multiplies by the constant)"
                       + (f", or a constant that fits in {dtype} such as -1e4 (finfo.min is not safe either: "
                          "min + min = -inf)." if math.isfinite(raw_constant) else "."))
        else:
            r = int(np.argmax(nan_rows))
            z = s.masked_logits.astype(np.float64)[r]
            if np.all(z == -np.inf):
                why = "all its scores are -inf, so the row max is -inf and -inf - (-inf) = NaN"
            elif np.any(z == np.inf):
                why = "a score is +inf, so inf - inf = NaN when the row max is subtracted"
            else:
                why = "a NaN reached its scores"
            out.append(f"{n} of {len(nan_rows)} rows are NaN; row {labels[r]} because {why}.")

    partly = blocked.any(axis=-1) & ~blocked.all(axis=-1) & ~nan_rows
    leaked = result.leaked
    if partly.any() and s.method not in ("multiply_weights",):
        exact = partly & (leaked == 0)
        leaky = partly & (leaked > 0)
        if exact.any():
            r = int(np.argmax(exact))
            j = int(np.argmax(blocked[r]))
            d = to_float(s.shifted[r, j])
            out.append(f"The masked keys of row {labels[r]} get weight exactly 0: key {labels[j]} scores "
                       f"exp({difference(s.masked_logits[r, j], s.row_max[r, 0], dtype, digits=6)}) = "
                       f"exp({spell(d, digits=6)}), which is 0 in {dtype} because anything "
                       f"below {underflow_threshold(dtype):.2f} underflows.")
        if leaky.any():
            r = int(np.nanargmax(np.where(leaky, leaked, -1)))
            j = int(np.argmax(np.where(blocked[r], s.exps.astype(np.float64)[r], -1)))
            d, e = to_float(s.shifted[r, j]), to_float(s.exps[r, j])
            out.append(f"Row {labels[r]} leaks {spell(leaked[r], digits=3)} of its weight onto masked keys: key "
                       f"{labels[j]} scores exp({spell(d, digits=6)}) = {spell(e, digits=3)}, not 0 in {dtype} (that "
                       f"needs an exponent below {underflow_threshold(dtype):.2f})."
                       + (f" The constant {spell(raw_constant, digits=6)} is not negative enough."
                          if s.method in ("add", "fill") and raw_constant <= 0 else ""))

    out += mask_verdicts(result)
    full = result.fully_masked & result.mask_active
    for r in np.flatnonzero(full)[:2]:
        kind = classify_row(w[r], result.unmasked.weights[r])
        out.append(f"Row {labels[r]} has every key masked, so there is no right answer; here it comes out "
                   f"{kind}: {fully_masked_reason(kind, result.steps.method, result.steps.dtype, result.steps.mask_value)}")
    if full.sum() > 2:
        more = int(full.sum()) - 2
        out.append(f"{more} more row{'s are' if more > 1 else ' is'} fully masked.")

    pad_rows = [i for i, t in enumerate(result.tokens) if t == result.batch.pad_token and not nan_rows[i]]
    if settings.padding and not settings.mask_queries and pad_rows and not full.any() and not polarity:
        out.append(f"Padded query rows such as {labels[pad_rows[0]]} still attend to the real tokens: the tutorial's "
                   "padding mask blocks keys only, and the loss mask drops these rows later.")
    return out


def mask_verdicts(result) -> list[str]:
    """The failure modes of the newer masks, from the result's own numbers.

    Left padding with a causal mask (the first queries see no key, and what every method and
    dtype then gives), packed documents (the weight that crosses documents, with or without a
    document mask) and a sliding window (what the other way of counting it would change).

    >>> from maskattn.state import Inputs
    >>> from maskattn.pipeline import compute
    >>> print(mask_verdicts(compute(Inputs(padding_side="left", causal=True)))[0].split(":")[0])
    Queries 0 (<pad>)–2 (<pad>) are left padding and see no key at all
    """
    lines = (left_padding_line(result), packing_line(result), window_line(result), two_sided_line(result),
             chunk_line(result), global_line(result), shared_prefix_line(result), prefix_line(result),
             bias_line(result))
    return [line for line in lines if line]


def _seen(result, row: int) -> int:
    return int((result.mask[row] == 0).sum())


def two_sided_line(result) -> str | None:
    """What a two-sided window lets one query see, both ways."""
    spec = result.spec
    if spec.window_right is None:
        return None
    T, labels = len(result.labels), result.labels
    row = min(T - 1, T // 2)
    back = window_reach(spec.window, spec.window_rule)
    return (f"The window is two-sided: query {labels[row]} sees up to {back} key{'s' * (back != 1)} back and "
            f"{spec.window_right} ahead ({_seen(result, row)} keys here), not the future alone — Longformer's "
            f"local attention, JAX local_window_size=({back}, {spec.window_right}).")


def chunk_line(result) -> str | None:
    """Where a chunk starts, and what its first query loses."""
    spec = result.spec
    if spec.chunk is None:
        return None
    labels, ids = result.labels, result.batch.ids[result.sequence]
    pads = int(left_padding([ids])[0])
    starts = list(range(pads + spec.chunk, len(labels), spec.chunk))
    start = (f"The chunks of {spec.chunk} start at the first real token {labels[pads]}" if pads and pads < len(labels)
             else f"The row is cut into chunks of {spec.chunk}")
    if not starts:
        return start + ": its tokens fit in one chunk, so it is plain causal attention here."
    first = starts[0]
    return (f"{start}. Query {labels[first]} opens a new chunk: it sees {_seen(result, first)} key"
            f"{'s' * (_seen(result, first) != 1)}, none of the {spec.chunk} before it (Llama 4 runs these chunked "
            "layers between layers that see everything).")


def global_line(result) -> str | None:
    """What the global tokens open: their rows and columns, past the window or chunks."""
    spec = result.spec
    if not spec.global_tokens:
        return None
    labels, T = result.labels, len(result.labels)
    names = ", ".join(labels[g] for g in spec.global_tokens)
    others = [i for i in range(T) if i not in spec.global_tokens]
    g = spec.global_tokens[0]
    reach = ""
    if others:
        far = others[-1]
        w = result.steps.weights.astype(np.float64)
        reach = (f" Query {labels[far]}, far from it, still gives {labels[g]} a weight of "
                 f"{spell(w[far, g], digits=3)}.") if result.mask[far, g] == 0 else ""
    many = len(spec.global_tokens) > 1
    return (f"Global token{'s' * many} {names}: {'the first' if many else 'it'} sees {_seen(result, g)} of {T} keys, "
            f"and every query may attend to {'them' if len(spec.global_tokens) > 1 else 'it'} (Longformer, BigBird); "
            f"padding{' and the future stay' if spec.is_causal else ' stays'} blocked.{reach}")


def shared_prefix_line(result) -> str | None:
    """That the completions see the prefix and never each other, with the weight that crosses (0)."""
    spec = result.spec
    if spec.shared_prefix is None:
        return None
    labels, T = result.labels, len(result.labels)
    part = shared_prefix_ids(spec.shared_prefix, completion_lengths(spec, T))          # (T,)
    w = result.steps.weights.astype(np.float64)
    sibling = (part[:, None] != part[None, :]) & (part[None, :] != 0) & (part[:, None] != 0)
    crossing = float(np.nansum(np.where(sibling, w, 0.0)))
    last = T - 1
    prefix = (f"the prefix {labels[0]}–{labels[spec.shared_prefix - 1]}" if spec.shared_prefix
              else "no prefix (0 tokens)")
    return (f"{spec.completions} completions share {prefix}: query {labels[last]} sees {_seen(result, last)} keys, the "
            f"prefix and its own completion; the weight any completion puts on a sibling is "
            f"{'exactly 0' if crossing == 0 else spell(crossing, digits=3)}.")


def bias_line(result) -> str | None:
    """What the position bias does to one row: it tilts the keys the mask leaves, and the mask still wins."""
    s, inputs = result.steps, result.inputs
    if s.bias is None:
        return None
    labels = result.labels
    row = min(int(np.argmax((result.mask == 0).sum(axis=-1))), len(labels) - 1)   # the row that sees the most keys
    plain = attention_steps(result.q, result.k, result.v, result.mask if s.has_mask else None,
                            mask_value=inputs.mask_value, dtype=s.dtype, method=s.method,
                            scale=inputs.scale).weights.astype(np.float64)            # (T, T) the same, no bias
    w = s.weights.astype(np.float64)
    moved = float(np.nanmax(np.abs(w[row] - plain[row]))) if not np.isnan(w[row]).all() else math.nan
    b = s.bias.astype(np.float64)[row]
    open_keys = result.mask[row] == 0
    span = (f"from {spell(b[open_keys].min(), digits=3)} to {spell(b[open_keys].max(), digits=3)}"
            if open_keys.any() else "on keys it cannot see")
    last = "The masked keys keep weight 0" if result.mask.any() else "A mask would still win"
    name = "typed bias" if inputs.bias == "typed" else f"{BIAS_NAMES[inputs.bias]} bias of head {inputs.bias_head}"
    hard = np.isneginf(s.bias.astype(np.float64)) & (result.mask == 0)              # cells only the bias blocks
    line = (f"The {name} adds {span} to row {labels[row]}'s visible logits before the mask; it moves a weight by "
            f"up to {spell(moved, digits=3)} there."
            + ("" if hard.any() else f" {last}: a mask is the bias −∞, a finite bias only tilts."))
    if hard.any():
        i, j = (int(x) for x in np.argwhere(hard)[0])
        w = float(s.weights[i, j])
        line += (f" {count(int(hard.sum()), 'cell')} of the bias {'is' if hard.sum() == 1 else 'are'} −inf where the "
                 f"mask blocks nothing: there the bias is a mask — key {labels[j]} gets weight "
                 f"{'exactly 0' if w == 0 else spell(w, digits=3)} from query {labels[i]}.")
    return line


def left_padding_line(result) -> str | None:
    """Which leading pad queries see no key (left padding + a causal mask), and what each method and dtype gives."""
    if not result.has_mask:
        return None
    stuck = left_padding_verdict(result.batch.ids[result.sequence], result.mask, labels=list(result.tokens))
    return stuck and f"{stuck} {fully_masked_summary(result, int(np.argmax(result.fully_masked)))}"


def packing_line(result) -> str | None:
    """How much weight crosses documents in a packed row (None when the row is not packed)."""
    if not result.batch.packed:
        return None
    crossing = packing_leak_verdict(result.steps.weights, result.batch.segment_ids[result.sequence],
                                    list(result.tokens))
    if crossing and not result.spec.segments and not crossing.startswith("The weights are NaN"):
        crossing += " Switch on the document mask to block them."
    return crossing


def window_line(result) -> str | None:
    """Which key the two ways of counting the window disagree on, and the weight it would get here."""
    if result.spec.window is None:
        return None
    return window_rule_verdict(len(result.labels), result.spec.window, list(result.tokens)) + _other_count(result)


def fully_masked_summary(result, row: int) -> str:
    """What every method and dtype gives for fully masked query ``row`` of ``result``, in one sentence."""
    inputs = result.inputs
    logits = attention_steps(result.q[row:row + 1], result.k, result.v, dtype="float64",
                             scale=inputs.scale).logits[0]                           # (Tk,) float64
    by_method: dict[str, dict[str, list[str]]] = {}
    methods = ("add", "fill", "fill −inf", "safe", "attend_all")
    for record in fully_masked_table(logits, mask_value=inputs.mask_value, methods=methods):
        by_method.setdefault(record["method"], {}).setdefault(record["result"], []).append(record["dtype"])
    parts = []
    for method, kinds in by_method.items():
        if len(kinds) == 1:
            parts.append(f"{method} gives {next(iter(kinds))} in every dtype")
        else:
            parts.append(f"{method} gives " + ", ".join(f"{kind} ({', '.join(dtypes)})"
                                                        for kind, dtypes in kinds.items()))
    return (f"With the constant {spell(inputs.mask_value, digits=4)}, row {result.labels[row]} comes out: "
            + "; ".join(parts) + ".")


def prefix_line(result) -> str | None:
    """What a prefix LM opens: the future keys the first query sees, and where causal attention starts."""
    prefix = result.spec.prefix_length
    if not prefix or prefix >= len(result.labels):
        return None
    ahead = int((result.mask[0, 1:] == 0).sum())                      # future keys query 0 may see
    labels = result.labels
    return (f"The prefix {labels[0]}–{labels[prefix - 1]} is bidirectional: query {labels[0]} sees {ahead} "
            f"key{'s' * (ahead != 1)} after it. From query {labels[prefix]} on it is causal: no query sees a key "
            "after itself (T5's inputs and targets, PaliGemma's prompt and answer).")


def _other_count(result) -> str:
    """What the other window count would change, with its weights: '' when both masks agree here."""
    spec, batch, s = result.spec, result.batch, result.steps
    rule = next(r for r in WINDOW_RULES if r != spec.window_rule)
    other = replace(spec, window_rule=rule).build(batch.ids, segment_ids=batch.segment_ids)[result.sequence, 0]
    differ = np.argwhere(other != result.mask)                                       # (n, 2)
    if not differ.size:
        return ""
    w = attention_steps(result.q, result.k, result.v, other, mask_value=result.inputs.mask_value, dtype=s.dtype,
                        method=s.method, scale=result.inputs.scale, bias=s.bias).weights.astype(np.float64)   # (T, T)
    here = s.weights.astype(np.float64)
    i, j = max(differ.tolist(), key=lambda cell: np.nan_to_num(abs(w[cell[0], cell[1]] - here[cell[0], cell[1]])))
    sign = "≤" if rule == "distance" else "<"
    return (f" Here, counted the other way (q − kv {sign} {spec.window}), query {result.labels[i]} would give key "
            f"{result.labels[j]} a weight of {spell(w[i, j], digits=3)} instead of {spell(here[i, j], digits=3)}.")


def row_table(result) -> list[dict]:
    """One record per query row: masked keys, row sum, NaN, leaked mass and a status."""
    w = result.steps.weights.astype(np.float64)                        # (T, T)
    # each of these scans the whole matrix: read them once, not once per row
    has_nan, fully, leaked, sums = result.has_nan, result.fully_masked, result.leaked, result.row_sums
    blocked = (result.mask == 1).sum(axis=-1)                          # (T,)
    active = result.mask_active
    records = []
    for r, label in enumerate(result.labels):
        if has_nan[r]:
            status = "NaN"
        elif fully[r] and active:
            status = "fully masked: " + classify_row(w[r], result.unmasked.weights[r])
        elif leaked[r] > 0:
            status = "leaks onto masked keys"
        elif abs(sums[r] - 1) > 1e-2:
            status = "does not sum to 1"
        else:
            status = "ok"
        records.append({"query": label, "masked keys": int(blocked[r]), "row sum": sums[r],
                        "NaN": bool(has_nan[r]), "leaked mass": leaked[r], "status": status})
    return records
