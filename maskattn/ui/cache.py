"""Everything a page shows, computed once per state and shared between sessions.

Every cache is keyed by the frozen ``Inputs`` (what changes the numbers), plus, where a
view needs it, the ``Look`` (sizes for the screen or for presentation mode) and the
inspector's row. A row click therefore reuses the result and the figures: it only adds an
outline to cached figures (``stage_figure``) and looks up that row's table and formula.
"""

from __future__ import annotations

from dataclasses import dataclass
import functools
import inspect
import math

import numpy as np
import pyarrow as pa
import streamlit as st

from .. import bias as bias_module, export, figures, frameworks, lab, model, proof
from ..attention import attention_steps
from ..errors import MaskAttnError
from ..broadcast import MaskBroadcast, broadcast_masks
from ..explain import negative_zero_line, row_table, verdicts
from ..figures.model import attention_figures, drift_figure, similarity_figures
from ..inspector import STEP_COLUMNS, inspector_latex, inspector_rows
from ..masks import parse_compact_mask
from ..numerics import finfo
from ..pipeline import PlaygroundResult, compute
from ..state import Inputs
from ..text import spell
from .render import formula_html, md_escape


@dataclass(frozen=True)
class Look:
    """How big things are drawn: the type size and the width of a heatmap panel, in pixels."""

    font_size: int
    panel_width: int
    subtitle: bool           # name the state under each title (screenshots); a slide has it once, on top
    room: int = 0            # the page's width for one panel: a long sequence's panels grow to it


#: on screen: two panels side by side at 1280×720 with the sidebar open
SCREEN = Look(font_size=figures.BASE_FONT, panel_width=figures.PANEL_WIDTH, subtitle=True, room=800)
#: presentation mode: projector type, two panels side by side at 1280×720 with the sidebar closed
PRESENTATION = Look(font_size=18, panel_width=500, subtitle=False, room=1000)


def look(presentation: bool) -> Look:
    return PRESENTATION if presentation else SCREEN


@functools.lru_cache(maxsize=4096)
def _state_key(state) -> str:
    """The cache key of an ``Inputs`` or ``Look``: its repr (every field, floats exactly), made once per distinct
    value. Streamlit's own hasher turns a dataclass into ``dataclasses.asdict``, a deep copy, on every call of every
    cached function (about a tenth of a Playground rerun under classroom load, benchmarks/README.md)."""
    return repr(state)


#: the hashers of every cache below (``hash_funcs``): the frozen states by their exact repr
_HASH_FUNCS = {Inputs: _state_key, Look: _state_key}


def _cached(**options):
    """``st.cache_resource`` with the states hashed by ``_state_key``."""
    return st.cache_resource(hash_funcs=_HASH_FUNCS, **options)


@_cached(max_entries=64, show_spinner=False)
def lab_sweep(logits: tuple, mask: tuple, method: str) -> lab.ConstantSweep:
    """The constant lab's sweep of one row's scores (tuples: hashable, shared between sessions)."""
    return lab.sweep_constants(logits, mask, method=method)


@_cached(max_entries=64, show_spinner=False)
def lab_fully_masked(logits: tuple, constant: float) -> list[dict]:
    """The constant lab's fully masked row, every method and dtype, for one row's scores."""
    return lab.fully_masked_table(logits, mask_value=constant)


@dataclass(frozen=True)
class FrameworkPanel:
    """One registry entry's weights on the Conventions page: its figure and caption, or its error."""

    key: str
    title: str
    figure: figures.FrozenFigure | None      # None when the real library refuses (``error``)
    caption: str
    error: str | None = None


@_cached(max_entries=64, show_spinner=False)
def framework_panels(inputs: Inputs, look: Look, width: int) -> tuple[FrameworkPanel, ...]:
    """What each framework's real layer returns for this state's logits and mask, one panel each
    (thirteen mirrors and heatmaps: built once per state, not on every rerun)."""
    r = result(inputs)
    dtype, labels = r.steps.dtype, r.labels
    given = r.mask if r.mask_active else None                       # no mask on: no mask passed
    panels = []
    for fw in frameworks.all_frameworks():
        try:
            w = fw.weights(r.steps.logits, given, dtype)                                  # (T, T)
        except MaskAttnError as err:
            panels.append(FrameworkPanel(fw.key, fw.title, None, "", str(err)))
            continue
        title = f"{fw.name}{' · default' if fw.default else ''}<br>{fw.path}"
        fig = figures.heatmap(w, labels, labels, title=title, mask=given, zrange=(0.0, 1.0), kind="weights",
                              dtype=dtype, font_size=look.font_size, width=width, colorbar=False)
        varies = int(fw.cpu_dependent(r.steps.logits, given, dtype).sum())
        caption = (f"`{fw.api}`  \n{fw.mask_text()}; blocked scores: {fw.applies} {fw.constant_text(dtype)}."
                   + ("" if fw.default else f"  \nNot the default: {fw.how_to_get}.")
                   + (f"  \n{frameworks.cpu_note(varies)}" if varies else ""))
        panels.append(FrameworkPanel(fw.key, fw.title, figures.FrozenFigure(fig), caption))
    return tuple(panels)


@_cached(max_entries=128, show_spinner=False)
def negative_zero_note(inputs: Inputs) -> str | None:
    """Why the mask term shows −0 (``explain.negative_zero_line``), once per state."""
    return negative_zero_line(result(inputs))


@_cached(max_entries=128, show_spinner=False)
def result(inputs: Inputs) -> PlaygroundResult:
    """``pipeline.compute(inputs)`` (raises ``MaskAttnError`` on bad input)."""
    return compute(inputs)


@_cached(max_entries=64, show_spinner=False)
def playground_figures(inputs: Inputs, look: Look) -> dict[str, figures.FrozenFigure]:
    """The Playground's figures for ``inputs`` at ``look``'s size, built once and shared."""
    figs = figures.playground_figures(result(inputs), font_size=look.font_size, width=look.panel_width,
                                      subtitle=look.subtitle, room=look.room or None)
    return {name: figures.FrozenFigure(fig) for name, fig in figs.items()}


@_cached(max_entries=512, show_spinner=False)
def stage_figure(inputs: Inputs, look: Look, name: str, row: int) -> figures.FrozenFigure:
    """A stage figure with the inspector's row outlined: the cached figure plus two shapes."""
    base = playground_figures(inputs, look)[name]
    cols = len(result(inputs).labels)
    return base.with_shapes(figures.row_outline(row, cols))


#: the Playground's clickable stage panels
STAGES = ("masked-logits", "weights", "logits", "mask-term")


@dataclass(frozen=True)
class PlaygroundView:
    """Everything the Playground draws for one state, row and spacing switch: one cached call per rerun instead of
    ten (each cached call hashes its arguments; under classroom load that added up, benchmarks/README.md)."""

    figures: dict                 # name -> FrozenFigure: the stage panels outlined at the row (unless a slide)
    verdict: tuple[str, ...]
    negative_zero: str | None
    inspector: pa.Table
    formula: str
    row_check: pa.Table
    tag: str                      # the file tag of the state, and of the raw logits (no mask in it)
    raw_tag: str


@_cached(max_entries=512, show_spinner=False)
def playground_view(inputs: Inputs, look: Look, row: int, show_spacing: bool, outlined: bool) -> PlaygroundView:
    figs = dict(playground_figures(inputs, look))
    if outlined:
        figs |= {name: stage_figure(inputs, look, name, row) for name in STAGES}
    res = result(inputs)
    return PlaygroundView(figs, verdict_lines(inputs), negative_zero_note(inputs),
                          inspector_table(inputs, row, show_spacing), inspector_formula(inputs, row),
                          row_check_table(inputs), export.file_tag(res), export.file_tag(res, masking=False))


#: the inspector's columns: the key, the steps in order, (on request) the dtype's spacing, and the weight
#: with and without the mask as numbers the table draws as bars
SPACING_COLUMN = "spacing at masked logit"
WITH_MASK, WITHOUT_MASK = "with the mask", "without the mask"


def _arrow(records: list[dict]) -> pa.Table:
    """Records as an Arrow table: ``st.dataframe`` sends it without a pandas conversion (~1 ms each)."""
    return pa.Table.from_pylist(records)


@_cached(max_entries=256, show_spinner=False)
def inspector_table(inputs: Inputs, row: int, show_spacing: bool) -> pa.Table:
    """One query row step by step, every value spelled exactly as the compute dtype holds it, then its
    weight with and without the mask as numbers (``None`` for NaN) for the table to draw as bars."""
    r = result(inputs)
    dtype = r.steps.dtype
    unmasked = r.unmasked.weights[row].astype(np.float64)                   # (Tk,)
    records = []
    for j, record in enumerate(inspector_rows(r.steps, row, r.labels)):
        out = {"key": record["key"], "masked": "yes" if record["masked"] else ""}
        out |= {c: spell(record[c], dtype) for c in STEP_COLUMNS if c != "bias" or r.steps.bias is not None}
        if show_spacing:
            out[SPACING_COLUMN] = spell(record[SPACING_COLUMN])
        out[WITH_MASK] = None if np.isnan(record["weight"]) else record["weight"]
        out[WITHOUT_MASK] = None if np.isnan(unmasked[j]) else float(unmasked[j])
        records.append(out)
    return _arrow(records)


@_cached(max_entries=128, show_spinner=False)
def row_check_table(inputs: Inputs) -> pa.Table:
    """Per query row: its sum, its leaked mass and a verdict (``explain.row_table``)."""
    return _arrow(row_table(result(inputs)))


@_cached(max_entries=256, show_spinner=False)
def inspector_formula(inputs: Inputs, row: int) -> str:
    """The formula for one query row with its real numbers, from the mask term on, as MathML (one element)."""
    return formula_html(inspector_latex(result(inputs).steps, row))


@_cached(max_entries=128, show_spinner=False)
def verdict_lines(inputs: Inputs) -> tuple[str, ...]:
    """The verdict sentences for ``inputs``, user text escaped for markdown."""
    return tuple(md_escape(line) for line in verdicts(result(inputs)))


@_cached(max_entries=64, show_spinner=False)
def weights_figure(inputs: Inputs, look: Look, title: str) -> figures.FrozenFigure:
    """The Playground's softmax weights for ``inputs`` under its own title (a case shown beside others)."""
    spec = playground_figures(inputs, look)["weights"].to_dict()
    meta = dict(spec["layout"].get("meta") or {})
    meta["alt"] = f"{title}. {meta.get('alt', '')}".strip()          # its own name: two cases may share a subtitle
    layout = dict(spec["layout"], title=dict(spec["layout"]["title"], text=title), meta=meta)
    return figures.FrozenFigure(dict(spec, layout=layout))


@_cached(max_entries=64, show_spinner=False)
def mask_broadcast(inputs: Inputs, heads: int) -> MaskBroadcast:
    """``broadcast.broadcast_masks(inputs, heads)``: every part of the mask, their maximum, every head."""
    return broadcast_masks(inputs, heads)


@_cached(max_entries=64, show_spinner=False)
def broadcast_panels(inputs: Inputs, heads: int, look: Look) -> tuple[tuple[figures.FrozenFigure, ...],
                                                                      tuple[tuple[figures.FrozenFigure, ...], ...]]:
    """The parts of the mask in their own shapes, and the sequences × (mask + heads) grid."""
    view = mask_broadcast(inputs, heads)
    width = int(figures.SMALL_PANEL * look.panel_width / SCREEN.panel_width)
    size = dict(font_size=look.font_size, width=width)
    parts = tuple(figures.FrozenFigure(figures.part_figure(name, part, **size)) for name, part in view.parts.items())
    if view.steps is None:
        return parts, ()
    labels_of = functools.partial(_sequence_labels, view)
    grid = figures.broadcast_figures(view, labels_of, **size)
    return parts, tuple(tuple(figures.FrozenFigure(fig) for fig in row) for row in grid)


def _sequence_labels(view: MaskBroadcast, b: int) -> list[str]:
    return [f"{i}·{token}" for i, token in enumerate(view.batch.tokens[b])]


@_cached(max_entries=128, show_spinner=False)
def drawn_figure(inputs: Inputs, look: Look, title: str, subtitle: str) -> figures.FrozenFigure:
    """The drawn mask (or an empty one the size of the sequences) to click on."""
    mask, labels = drawn_matrix(inputs)
    return figures.FrozenFigure(figures.drawn_mask_figure(mask, labels, title=title, subtitle=subtitle,
                                                          font_size=look.font_size, width=look.panel_width))


def drawn_matrix(inputs: Inputs) -> tuple[tuple[tuple[int, ...], ...], list[str]]:
    """The drawn mask and its axis labels: the tokens when it fits the sequence on view, else positions.

    With nothing drawn, an open mask (all 0) the size of the sequence on view.
    """
    labels = result(inputs).labels
    if not inputs.drawn:
        return tuple((0,) * len(labels) for _ in labels), labels
    mask = parse_compact_mask(inputs.drawn)
    return mask, labels if len(mask) == len(labels) else [str(i) for i in range(len(mask))]


@functools.cache
def source_of(function) -> str:
    """``inspect.getsource``, read once (it tokenizes the whole module: ~4 ms a call)."""
    return inspect.getsource(function)


# --------------------------------------------------------------------------- the Proof page


@dataclass(frozen=True)
class ProofPanel:
    """One proof as the Proof page shows it: figures, a table, its takeaway (escaped for markdown)."""

    takeaway: str
    figures: dict[str, figures.FrozenFigure]
    table: pa.Table | None = None
    note: str = ""                  # a second sentence with the facts behind the takeaway


@dataclass(frozen=True)
class LeakPanel(ProofPanel):
    """The leak test as the page shows it, with its verdict."""

    verdict: str = "unprotected"    # "identical": every protected query kept its bits; "moved"; "unprotected"
    headline: str = ""              # the verdict in a few words, with the number when it moved
    shaken: str = ""                # what was shaken, in words (escaped)


def _options(inputs: Inputs) -> dict:
    """The mask constant, method, dtype and scaling of ``inputs``, as the core's keyword arguments."""
    return dict(mask_value=inputs.mask_value, dtype=inputs.dtype, method=inputs.method, scale=inputs.scale)


def _frozen(figs: dict) -> dict[str, figures.FrozenFigure]:
    return {name: figures.FrozenFigure(fig) for name, fig in figs.items()}


def _subtitle(inputs: Inputs, look: Look) -> str:
    return figures.state_subtitle(result(inputs)) if look.subtitle else ""


@_cached(max_entries=64, show_spinner=False)
def deleted_panel(inputs: Inputs, look: Look) -> ProofPanel:
    """Delete the columns: the masked softmax beside the softmax of the unmasked keys alone."""
    r = result(inputs)
    deleted = proof.delete_masked_keys(r.steps)
    figs = figures.deleted_figures(deleted, r.labels, r.mask if r.has_mask else None, font_size=look.font_size,
                                   width=look.panel_width, subtitle=_subtitle(inputs, look))
    return ProofPanel(md_escape(deleted.takeaway(r.labels)), _frozen(figs))


@_cached(max_entries=256, show_spinner=False)
def exact_panel(inputs: Inputs, row: int) -> ProofPanel:
    """Exact vs float for one query row: each masked key's e^(z − m) exactly and in the dtype."""
    r = result(inputs)
    under = proof.exact_vs_float_row(r.steps, row)
    dtype = under.dtype
    records = [{"key": r.labels[j], "z − m": spell(d, dtype), "e^(z − m) exactly": e.exact_text,
                f"e^(z − m) in {dtype}": spell(x, dtype), "weight": spell(w, dtype)}
               for j, d, e, x, w in zip(under.keys, under.shifted, under.exact, under.exps, under.weights)]
    smallest = float(finfo(dtype).smallest_subnormal)
    note = (f"The smallest positive {dtype} number is {spell(smallest, digits=3)} = "
            f"e^{spell(round(math.log(smallest), 2))}, and exp rounds every exponent below "
            f"{spell(round(under.underflow_threshold, 2))} to exactly 0 (below "
            f"{spell(round(under.flush_threshold, 2))} on hardware that flushes subnormals to zero).")
    return ProofPanel(md_escape(under.takeaway(r.labels)), {}, _arrow(records) if records else None, note)


def _leak_report(inputs: Inputs, token: int | None, amount: float, seed: int):
    r = result(inputs)
    return proof.leak_test_tokens(
        list(r.tokens), r.mask if r.has_mask else None, positions=None if token is None else [token],
        pad_token=inputs.pad_token, amount=amount, rng=seed, d_model=inputs.d_model, seed=inputs.seed,
        positional=inputs.positional, qk_mode=inputs.qk_mode, **_options(inputs))


def _leak_row(report, i: int) -> dict:
    """One query of the leak test: can it see a shaken position, how far did its output move, the verdict."""
    moved = report.delta[i]
    if report.shielded[i]:
        sees, verdict = "no: all masked", ("✅ bit-for-bit identical" if report.unchanged[i] else "❌ moved: a leak")
    elif report.perturbed_queries[i]:
        sees, verdict = "shaken itself", {"unchanged": "unchanged", "NaN": "NaN",
                                          "outweighs": "moved: its scores on masked keys beat the constant",
                                          "own vector": "moved (its own vector changed)"}[report.own_cause(i)]
    else:
        sees, verdict = "yes", "unchanged" if report.unchanged[i] else "moved (it may see a shaken key)"
    return {"query": report.labels[i], "sees a shaken position": sees, "max |Δ output|": spell(moved, digits=3),
            "verdict": verdict}


@_cached(max_entries=128, show_spinner=False)
def leak_panel(inputs: Inputs, look: Look, token: int | None, amount: float, seed: int) -> LeakPanel:
    """The leak test: shake the pad tokens' embeddings (``token`` None) or one future token's.

    The before/after figures show the protected queries (those that mask every shaken
    position), or, when none is, the queries that were not shaken themselves.
    """
    report = _leak_report(inputs, token, amount, seed)
    labels = report.labels
    shown = np.flatnonzero(report.shielded) if report.shielded.any() else np.flatnonzero(~report.perturbed_queries)
    figs = (figures.leak_figures(report, shown, font_size=look.font_size, width=look.panel_width,
                                 subtitle=_subtitle(inputs, look)) if shown.size else {})
    table = _arrow([_leak_row(report, i) for i in range(len(labels))])
    shaken = ", ".join(labels[i] for i in report.positions[:6]) + (" …" if len(report.positions) > 6 else "")
    if report.passed:
        n = int(report.shielded.sum())
        verdict = "identical"
        headline = (f"Bit-for-bit identical: {n} protected quer{'y' if n == 1 else 'ies'}, "
                    f"max |Δ| = {spell(np.max(report.delta[report.shielded]))}")
    elif report.leaks.any():
        worst = report.delta[report.leaks]
        verdict = "moved"
        headline = ("Not identical: a protected output is NaN" if np.isnan(worst).any() else
                    f"Not identical: a protected output moved by {spell(np.max(worst), digits=3)}")
    else:
        verdict, headline = "unprotected", "No query is protected"
    return LeakPanel(md_escape(report.takeaway()), _frozen(figs), table, verdict=verdict, headline=headline,
                     shaken=md_escape(shaken))


@_cached(max_entries=64, show_spinner=False)
def gradient_panel(inputs: Inputs, look: Look) -> ProofPanel:
    """The backward pass with d_output = ones: ∂L/∂logits and ∂L/∂V, masked cells outlined."""
    r = result(inputs)
    grads = proof.attention_grads(r.q, r.k, r.v, r.mask if r.has_mask else None,
                                  d_output=np.ones(r.steps.output.shape), **_options(inputs))
    figs = figures.gradient_figures(grads, r.labels, font_size=look.font_size, width=look.panel_width,
                                    subtitle=_subtitle(inputs, look))
    return ProofPanel(md_escape(grads.takeaway(r.labels)), _frozen(figs))


# the real model -------------------------------------------------------------------------------------------------
@_cached(show_spinner="Loading all-MiniLM-L6-v2 (once per server) …")
def model_encoder() -> model.Encoder:
    """The real model's weights and tokenizer, loaded once per process (raises ``MaskAttnError`` if missing)."""
    return model.load()


@_cached(max_entries=16, show_spinner="Running all-MiniLM-L6-v2 …")
def model_effect(sentences: tuple[str, ...], padding: bool, mask_value: float, method: str, dtype: str,
                 causal: bool) -> model.PaddingEffect:
    """The batch, the batch with no padding mask and each sentence alone, compared (``model.padding_effect``)."""
    return model.padding_effect(model_encoder(), sentences, padding_mask=padding, mask_value=mask_value,
                                method=method, dtype=dtype, causal=causal, max_tokens=model.PAGE_MAX_TOKENS)


@_cached(max_entries=16, show_spinner="Running the batch in three dtypes, with two constants each …")
def model_constants(sentences: tuple[str, ...], method: str) -> list[model.ConstantRow]:
    return model.constant_table(model_encoder(), sentences, method=method, max_tokens=model.PAGE_MAX_TOKENS)


@_cached(max_entries=64, show_spinner=False)
def model_figures(sentences: tuple[str, ...], padding: bool, mask_value: float, method: str, dtype: str,
                  causal: bool, look: Look) -> dict[str, figures.FrozenFigure]:
    """The real-model page's figures that do not depend on the layer and head: the drift and the similarities."""
    effect = model_effect(sentences, padding, mask_value, method, dtype, causal)
    run = effect.batch
    names = [f"{b + 1}: {s}" for b, s in enumerate(run.sentences)]
    setting = model.setting_name(run.padding_mask, run.mask_value, run.method, run.dtype, causal).split(" (")[0]
    figs = {"drift": drift_figure(names, effect.drift, effect.drift_unmasked, setting=setting,
                                  other="no padding mask" if causal else "no mask",
                                  title="Each sentence: batch vs alone", font_size=look.font_size)}
    figs |= {f"similarity-{k}": v for k, v in similarity_figures(effect, font_size=look.font_size,
                                                                   room=look.room or 800).items()}
    return {name: figures.FrozenFigure(fig) for name, fig in figs.items()}


@_cached(max_entries=128, show_spinner=False)
def model_head_figures(sentences: tuple[str, ...], padding: bool, mask_value: float, method: str, dtype: str,
                       causal: bool, b: int, layer: int, head: int, look: Look) -> dict[str, figures.FrozenFigure]:
    """One head of one layer of sentence ``b``, as the Playground draws its stages."""
    run = model_effect(sentences, padding, mask_value, method, dtype, causal).batch
    figs = attention_figures(run, b, layer, head, font_size=look.font_size, panel_width=look.panel_width,
                             room=look.room or 800)
    return {name: figures.FrozenFigure(fig) for name, fig in figs.items()}


@_cached(max_entries=64, show_spinner=False)
def model_verdict(sentences: tuple[str, ...], padding: bool, mask_value: float, method: str, dtype: str,
                  causal: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The verdict's sentences, and the nearest neighbours that change (``model.rank_changes``)."""
    effect = model_effect(sentences, padding, mask_value, method, dtype, causal)
    return tuple(model.verdict(effect)), tuple(model.rank_changes(effect))


# --- a mask is a bias of −∞ (the Masks page) ---------------------------------------------------------------------

#: ALiBi's heads are drawn up to this many tokens (one T×T panel per head)
MAX_ALIBI_TOKENS = 24
#: the heads drawn: the steepest slope, a middle one and the gentlest of the 8
ALIBI_HEADS_SHOWN = (1, 3, 8)


@dataclass(frozen=True)
class BiasSweep:
    """The Masks page's "bias of −∞" section for one state and row: the sweep, and what is said and tabled of it."""

    limit: bias_module.BiasLimit
    row: int                      # the row used (the inspector's, or the row that sees the most keys)
    verdict: str                  # markdown-escaped
    table: pa.Table               # the weight the key keeps, per bias and dtype, spelled exactly


@_cached(max_entries=64, show_spinner=False)
def bias_sweep(inputs: Inputs, row: int) -> BiasSweep:
    """``bias.bias_limit_of_row`` on the Playground's logits (no position bias) and mask."""
    r = result(inputs)
    limit, used = bias_module.bias_limit_of_row(r.unmasked.logits.astype(np.float64), r.mask,
                                                min(row, len(r.labels) - 1))
    said = f"**Query {md_escape(r.labels[used])}, key {md_escape(r.labels[limit.key])}.** " + md_escape(
        bias_module.bias_limit_verdict(limit, inputs.dtype))
    return BiasSweep(limit, used, said, _arrow(limit.records()))


@_cached(max_entries=128, show_spinner=False)
def bias_figure(inputs: Inputs, look: Look, row: int, step: float) -> figures.FrozenFigure:
    """The row's weights with no bias and with ``step`` on the key (``bias_sweep``'s row)."""
    limit = bias_sweep(inputs, row).limit
    return figures.FrozenFigure(figures.bias_row_figure(limit, step=step, dtype=inputs.dtype,
                                                        labels=result(inputs).labels, font_size=look.font_size,
                                                        width=max(520, look.panel_width + 120)))


@_cached(max_entries=64, show_spinner=False)
def alibi_heads(inputs: Inputs, look: Look) -> tuple[tuple[figures.FrozenFigure, ...], str, int]:
    """Every ALiBi head's weights on the sequence on view, with its mask (causal form when the mask is causal,
    else symmetric), and which form; at most ``MAX_ALIBI_TOKENS`` tokens."""
    r = result(inputs)
    T = min(len(r.labels), MAX_ALIBI_TOKENS)
    form = "alibi" if r.spec.is_causal else "alibi_symmetric"
    heads = ALIBI_HEADS_SHOWN
    mask = r.mask[:T, :T] if r.has_mask else None
    weights = [attention_steps(r.q[:T], r.k[:T], r.v[:T], mask, mask_value=inputs.mask_value, dtype=inputs.dtype,
                               method=inputs.method, scale=inputs.scale,
                               bias=bias_module.position_bias(form, T, h)).weights for h in heads]
    width = max(200, int(262 * look.panel_width / SCREEN.panel_width))   # three panels fit the page at 1280 px
    slopes = bias_module.alibi_slopes(bias_module.BIAS_HEADS)
    figs = figures.alibi_head_figures(weights, r.labels[:T], mask=mask, heads=list(heads),
                                      slopes=[slopes[h - 1] for h in heads],
                                      font_size=look.font_size, width=width)
    return tuple(figures.FrozenFigure(f) for f in figs), form, T
