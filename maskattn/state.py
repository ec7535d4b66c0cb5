"""The app's state as two frozen values, and their URL form.

What changes the numbers (text, masks, constant, method, dtype, model) is ``Inputs``:
the only key of the compute and figure caches. What changes only how they are shown
(the inspector's row, presentation mode) is ``View``: a row click or a presentation
toggle reuses the cached result and figures.

A shared link is ``to_query_params(inputs, view)`` (defaults left out) and
``from_query_params`` reads one back, replacing any bad value by its default with a
notice that names the parameter. Unknown parameters are ignored.

>>> to_query_params(Inputs(causal=True, dtype="float16"), View(row=2))
{'causal': '1', 'dtype': 'float16', 'row': '2'}
>>> inputs, view, notices = from_query_params({"dtype": "float8", "causal": "yes", "utm": "x"})
>>> inputs.dtype, inputs.causal, view, notices
('float32', True, View(row=0, presentation=False, preset='', layer=6, head=1), ["Ignored URL parameter dtype='float8': expected one of float16, bfloat16, float32, float64."])
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
import ipaddress
import math
import re
from typing import Callable
from urllib.parse import urlsplit

from .attention import METHODS
from .bias import BIAS_HEADS, BIAS_KINDS, BIAS_NAMES, compact_bias, parse_bias_matrix
from .errors import MaskAttnError
from .masks import WINDOW_RULES, MaskSpec, compact_mask, parse_compact_mask
from .numerics import DTYPE_NAMES, finfo
from .tokens import (D_MODEL_CHOICES, MAX_TOKENS_PER_SEQUENCE, PAD_TOKEN, PADDING_SIDES, QK_MODES, MAX_TEXT_CHARS,
                     tokenize, validate_pad_token)

DEFAULT_TEXT = "the cat sat\nthe dog chased the cat home\nbirds sing"

#: the mask-constant menu: name -> value (None: depends on the dtype or the custom field)
CONSTANT_PRESETS: dict[str, float | None] = {
    "-1e9": -1e9,
    "-1e4": -1e4,
    "-1e6": -1e6,
    "-10": -10.0,
    "-1": -1.0,
    "0": 0.0,
    "finfo.min": None,
    "-inf": -math.inf,
    "custom": None,
}
CONSTANT_LABELS: dict[str, str] = {
    "-1e9": "−1e9 (the tutorial)",
    "-1e4": "−1e4",
    "-1e6": "−1e6",
    "-10": "−10 (too small)",
    "-1": "−1 (far too small)",
    "0": "0 (no mask effect)",
    "finfo.min": "the dtype's finfo.min (Hugging Face)",
    "-inf": "−inf",
    "custom": "custom…",
}
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class Control:
    """What an ``Inputs`` or ``View`` field says about itself: everything but its widget.

    The URL codec, the export CLI, the session keys and the sidebar's plumbing are made from it,
    so a new control is its field plus its widget.
    """

    url: str                                   # its URL parameter (short and readable)
    help: str                                  # one line for the command line
    cli: str | None = None                     # its flag ("--" + the field name by default; "" = none)
    choices: tuple | None = None               # the values it takes, when a menu
    range: tuple[int, int] | None = None       # the whole numbers it takes, when a number
    masking: bool = False                      # changes only the mask or how it is applied, never the raw logits
    parse: Callable[[str], object] | None = None   # a value from URL text; raises ValueError saying what it expects


def control(default, **about):
    """A dataclass field with its ``Control`` (see ``controls``)."""
    return field(default=default, metadata={"control": Control(**about)})


def controls(cls) -> dict[str, Control]:
    """Each field of ``Inputs`` or ``View`` and its ``Control``, in field order."""
    return {f.name: f.metadata["control"] for f in fields(cls)}


def _text(raw: str) -> str:
    if not raw.strip():
        raise ValueError("expected some tokens")
    return raw[:MAX_TEXT_CHARS]


def _pad_token(raw: str) -> str:
    try:
        return validate_pad_token(raw)
    except MaskAttnError as err:
        raise ValueError(str(err)) from None


def _custom_constant(raw: str) -> float:
    try:
        return parse_constant(raw)
    except MaskAttnError:
        raise ValueError("expected a number such as -1e9 or -inf") from None


def _preset_slug(raw: str) -> str:
    """A preset's slug as a link carries it (which presets exist, the page checks: presets build on this module)."""
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", raw.strip()):
        raise ValueError("expected the name of a classroom preset, such as wrong-polarity")
    return raw.strip()


def parse_positions(raw: str) -> tuple[int, ...]:
    """Global token positions typed as text: whole numbers >= 0 split by commas or spaces; sorted, each once.

    >>> parse_positions(" 5, 0 0 "), parse_positions("")
    ((0, 5), ())
    >>> parse_positions("1, x")
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: global token positions must be whole numbers from 0, split by commas, got 'x'
    """
    items = [item for item in re.split(r"[,\s]+", str(raw).strip()) if item]
    for item in items:
        if not item.isdigit() or len(item) > 5:
            raise MaskAttnError("global token positions must be whole numbers from 0, split by commas, "
                                f"got {item[:20]!r}")
    if len(items) > MAX_TOKENS_PER_SEQUENCE:
        raise MaskAttnError(f"at most {MAX_TOKENS_PER_SEQUENCE} global token positions, got {len(items)}")
    return tuple(sorted({int(item) for item in items}))


def _positions(raw: str) -> str:
    try:
        return ",".join(map(str, parse_positions(raw)))
    except MaskAttnError:
        raise ValueError("expected token positions split by commas, such as 0,5") from None


def _bias_matrix(raw: str) -> str:
    try:
        return compact_bias(parse_bias_matrix(raw))
    except MaskAttnError:
        raise ValueError("expected rows of numbers joined by ';', numbers by ',' (such as 0,-1;-inf,0)") from None


def _drawn(raw: str) -> str:
    try:
        return compact_mask(parse_compact_mask(raw))
    except MaskAttnError:
        raise ValueError("expected rows of 0 and 1 joined by '-', as many rows as digits in each "
                         "(such as 001-100-010)") from None


@dataclass(frozen=True)
class Inputs:
    """Every control that changes the numbers, with the defaults a new visitor sees."""

    text: str = control(DEFAULT_TEXT, url="tokens", parse=_text,
                        help="token sequences, one per line (use $'a b\\nc d' in bash for two lines)")
    pad_token: str = control(PAD_TOKEN, url="pad", cli="--pad", parse=_pad_token, help="the pad token (gets id 0)")
    sequence: int = control(0, url="seq", range=(0, 10_000), help="which sequence of the batch to show, from 0")
    padding: bool = control(True, url="padding", masking=True, help="the padding mask (block pad keys)")
    mask_queries: bool = control(False, url="qpad", masking=True, help="also mask padded queries")
    causal: bool = control(False, url="causal", masking=True, help="the causal (look-ahead) mask")
    padding_side: str = control("right", url="padside", choices=PADDING_SIDES,
                                help="right (the tutorial) or left (generation)")
    window: int = control(0, url="window", range=(0, MAX_TOKENS_PER_SEQUENCE), masking=True,
                          help="sliding window: the keys each query sees (0 = off)")
    window_rule: str = control("keys", url="wrule", choices=tuple(WINDOW_RULES), masking=True,
                               help="keys (q - kv < w, Hugging Face) or distance (q - kv <= w, FlashAttention, JAX)")
    prefix_length: int = control(0, url="prefix", cli="--prefix", range=(0, MAX_TOKENS_PER_SEQUENCE), masking=True,
                                 help="prefix LM: the keys every query sees (0 = off)")
    packed: bool = control(False, url="packed", help="pack the lines into one row (segment ids)")
    document_mask: bool = control(True, url="docmask", masking=True,
                                  help="when packed, block the keys of other documents")
    drawn: str = control("", url="drawn", masking=True, parse=_drawn,
                         help="a mask drawn by hand, rows of 0/1 joined by '-', e.g. 001-100-010")
    window_right: int = control(0, url="wright", range=(0, MAX_TOKENS_PER_SEQUENCE), masking=True,
                                help="two-sided window: the keys after the query it also sees (0 = a causal window)")
    chunk: int = control(0, url="chunk", range=(0, MAX_TOKENS_PER_SEQUENCE), masking=True,
                         help="chunked attention (Llama 4): chunk size, causal within the chunk (0 = off)")
    global_tokens: str = control("", url="global", cli="--global", masking=True, parse=_positions,
                                 help="global tokens (Longformer): positions split by commas, e.g. 0,5; "
                                      "they lift the window or chunks")
    shared_prefix: int = control(0, url="shared", range=(0, MAX_TOKENS_PER_SEQUENCE), masking=True,
                                 help="shared prefix: its length; the completions after it never see each other (0 = off)")
    completions: int = control(2, url="completions", range=(1, MAX_TOKENS_PER_SEQUENCE), masking=True,
                               help="shared prefix: how many completions share it (the rest of the row, split evenly)")
    constant: str = control("-1e9", url="const", cli="", choices=tuple(CONSTANT_PRESETS), masking=True,
                            help="a key of CONSTANT_PRESETS (the CLI's --constant takes a name or a number)")
    custom_constant: float = control(-1e9, url="value", cli="", masking=True, parse=_custom_constant,
                                     help="the constant when constant is 'custom'")
    method: str = control("add", url="method", choices=tuple(METHODS), masking=True,
                          help="add, fill, safe, attend_all, multiply_weights or zero_logits")
    bias: str = control("off", url="bias", choices=tuple(BIAS_KINDS), masking=True,
                        help="a position bias added to the logits before the mask: off, alibi, alibi_symmetric, t5, "
                             "t5_causal or typed (bias_matrix)")
    bias_head: int = control(1, url="bhead", cli="--bias-head", range=(1, BIAS_HEADS), masking=True,
                             help=f"the head whose bias is added (1 to {BIAS_HEADS}: each has its own slope)")
    bias_matrix: str = control("", url="biasm", cli="--bias-matrix", masking=True, parse=_bias_matrix,
                               help="the typed bias (bias=typed): rows joined by ';', numbers by ',', -inf masks")
    dtype: str = control("float32", url="dtype", choices=DTYPE_NAMES, help="float16, bfloat16, float32 or float64")
    scale: bool = control(True, url="scale", help="divide logits by √d")
    d_model: int = control(16, url="d", cli="--d-model", choices=D_MODEL_CHOICES,
                           help="width of the token vectors: 4, 8, 16, 32, 64 or 128")
    seed: int = control(0, url="seed", range=(0, MAX_SEED), help="seed of the token vectors and projections")
    positional: bool = control(True, url="pe", help="add the positional encoding")
    qk_mode: str = control("projected", url="qk", cli="--qk", choices=tuple(QK_MODES), help="projected or shared")

    @property
    def mask_value(self) -> float:
        """The constant as a float64 number (before rounding to ``dtype``)."""
        return resolve_constant(self.constant, self.custom_constant, self.dtype)

    @property
    def mask_spec(self) -> MaskSpec:
        """The masks switched on, as one ``MaskSpec`` (``pipeline.fitted_spec`` fits it to the tokens).

        >>> Inputs(causal=True, window=3).mask_spec.describe()
        'padding + look-ahead + sliding window 3 (q − kv < 3: 3 keys)'
        """
        return MaskSpec(padding=self.padding, query_padding=self.mask_queries, causal=self.causal,
                        window=self.window or None, window_rule=self.window_rule,
                        prefix_length=self.prefix_length or None, segments=self.packed and self.document_mask,
                        drawn=parse_compact_mask(self.drawn) if self.drawn else None,
                        window_right=self.window_right if self.window and self.window_right and not self.looks_causal
                        else None,
                        chunk=self.chunk or None,
                        global_tokens=parse_positions(self.global_tokens) if self.window or self.chunk else (),
                        shared_prefix=self.shared_prefix or None if not self.packed else None,
                        completions=self.completions)

    def future_blockers(self) -> tuple[str, ...]:
        """The parts other than the window that block the future (then the window has no keys ahead): ``MaskSpec``'s
        own ``future_blockers``, for the parts these inputs switch on.

        >>> Inputs(causal=True, chunk=4).future_blockers()
        ('the causal mask', 'chunks')
        """
        return MaskSpec(causal=self.causal, prefix_length=self.prefix_length or None, chunk=self.chunk or None,
                        shared_prefix=None if self.packed else self.shared_prefix or None).future_blockers()

    @property
    def looks_causal(self) -> bool:
        """A part other than the window blocks the future (``future_blockers``)."""
        return bool(self.future_blockers())

    def without_masking(self) -> Inputs:
        """These inputs with every field that only changes how the mask is built or applied at its default:
        what the raw logits depend on (the tokens, their padding and packing, the model, the dtype).

        >>> Inputs(causal=True, constant="-1e4", method="fill").without_masking() == Inputs()
        True
        >>> Inputs(packed=True, dtype="float16").without_masking() == Inputs(packed=True, dtype="float16")
        True
        """
        defaults = Inputs()
        return replace(self, **{name: getattr(defaults, name) for name in MASKING_FIELDS})

    def mask_names(self) -> list[str]:
        """The masks and batch layout in short words, for subtitles, descriptions and file names.

        >>> Inputs(padding_side="left", causal=True, window=3, window_rule="distance").mask_names()
        ['padding (left)', 'causal', 'window 3 (q − kv ≤ 3)']
        >>> Inputs(padding=False, packed=True, document_mask=False).mask_names()
        ['packed, no document mask']
        """
        return [words for _, words in self.mask_parts()]

    def mask_parts(self) -> list[tuple[str, str]]:
        """``(slug, words)`` for each mask and batch-layout part that is on: the words for people
        (``mask_names``), the slug for file names (letters, digits and dashes).

        >>> Inputs(mask_queries=True, window=3, window_rule="distance").mask_parts()
        [('padding', 'padding'), ('qpad', 'padded queries'), ('window-3-le', 'window 3 (q − kv ≤ 3)')]
        """
        left = self.padding_side == "left"
        parts = ([("padding-left", "padding (left)") if left else ("padding", "padding")] if self.padding
                 else [("left-pads", "left pads")] if left else [])
        parts += [("qpad", "padded queries")] * self.mask_queries + [("causal", "causal")] * self.causal
        if self.window:
            distance = self.window_rule == "distance"
            parts.append((f"window-{self.window}" + "-le" * distance,
                          f"window {self.window}" + f" (q − kv ≤ {self.window})" * distance))
        if self.prefix_length:
            parts.append((f"prefix-{self.prefix_length}", f"prefix {self.prefix_length}"))
        if self.packed:
            parts.append(("packed-docs", "packed + documents") if self.document_mask
                         else ("packed-nodocs", "packed, no document mask"))
        if self.window and self.window_right and not self.looks_causal:
            parts.append((f"ahead-{self.window_right}", f"{self.window_right} ahead"))
        if self.chunk:
            parts.append((f"chunk-{self.chunk}", f"chunks of {self.chunk}"))
        if self.global_tokens and (self.window or self.chunk):
            parts.append(("global-" + self.global_tokens.replace(",", "-"), f"global {self.global_tokens}"))
        if self.shared_prefix and not self.packed:
            parts.append((f"shared-{self.shared_prefix}-{self.completions}",
                          f"shared prefix {self.shared_prefix}, {self.completions} completions"))
        if self.drawn:
            size = self.drawn.count("-") + 1
            parts.append((f"drawn-{size}x{size}", f"drawn {size}×{size}"))
        if self.bias == "typed":
            parts.append(("typed-bias", "typed bias"))
        elif self.bias != "off":
            parts.append((f"{self.bias.replace('_', '-')}-head-{self.bias_head}",
                          f"{BIAS_NAMES[self.bias]} bias, head {self.bias_head}"))
        return parts


@dataclass(frozen=True)
class View:
    """What changes only the view: never part of a compute or figure cache key."""

    row: int = control(0, url="row", cli="", range=(0, 100_000),
                       help="the query row the inspector explains (and outlines)")
    presentation: bool = control(False, url="present", cli="",
                                 help="a slide for projectors: big type, the story on one screen")
    preset: str = control("", url="preset", cli="", parse=_preset_slug,
                          help="the classroom preset whose context and question the Playground shows")
    layer: int = control(6, url="layer", cli="", range=(1, 6),
                         help="the real model's layer whose attention is drawn (1–6)")
    head: int = control(1, url="head", cli="", range=(1, 12), help="the real model's head that is drawn (1–12)")


#: the Inputs fields that change only the mask or how it is applied, never the raw logits
MASKING_FIELDS: tuple[str, ...] = tuple(name for name, c in controls(Inputs).items() if c.masking)


def resolve_constant(constant: str, custom_constant: float, dtype: str) -> float:
    """The number behind a constant preset.

    >>> resolve_constant("finfo.min", 0.0, "float16")
    -65504.0
    >>> resolve_constant("custom", -5.0, "float32")
    -5.0
    """
    if constant not in CONSTANT_PRESETS:
        raise MaskAttnError(f"constant must be one of {', '.join(CONSTANT_PRESETS)}, got {constant!r}")
    if constant == "finfo.min":
        return float(finfo(dtype).min)
    if constant == "custom":
        return parse_constant(custom_constant)
    return CONSTANT_PRESETS[constant]


def parse_constant(value) -> float:
    """A user-typed mask constant as a float; NaN and non-numbers are refused.

    >>> parse_constant(" -1e9 "), parse_constant("-inf")
    (-1000000000.0, -inf)
    >>> parse_constant("nan")
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: the mask constant must be a number such as -1e9 or -inf, got 'nan'
    """
    try:
        number = float(str(value).strip().replace("−", "-"))
    except ValueError:
        number = math.nan
    if math.isnan(number):
        raise MaskAttnError(f"the mask constant must be a number such as -1e9 or -inf, got {value!r}")
    return number


#: URL parameter name for each field of Inputs and of View; kept short and readable
INPUT_URL_KEYS: dict[str, str] = {name: c.url for name, c in controls(Inputs).items()}
VIEW_URL_KEYS: dict[str, str] = {name: c.url for name, c in controls(View).items()}
URL_KEYS: dict[str, str] = INPUT_URL_KEYS | VIEW_URL_KEYS
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _parse_field(cls, name: str, raw: str):
    """Parse one URL value for field ``name`` of ``cls`` by its ``Control``; raise ValueError with the expectation."""
    about, default = controls(cls)[name], getattr(cls, name)
    if about.parse is not None:
        return about.parse(raw)
    if isinstance(default, bool):
        low = raw.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise ValueError("expected 1 or 0")
    if about.choices is not None:
        for choice in about.choices:
            if raw == str(choice) or (isinstance(choice, int) and raw.strip() == str(choice)):
                return choice
        raise ValueError(f"expected one of {', '.join(map(str, about.choices))}")
    if about.range is not None:
        lo, hi = about.range
        if raw.strip().isdigit() and lo <= int(raw) <= hi:
            return int(raw)
        raise ValueError(f"expected a whole number from {lo} to {hi}")
    raise AssertionError(f"{cls.__name__}.{name} says neither how to parse it nor its choices or range")


def _format_field(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)  # floats: str(-1e9) == '-1000000000.0', str(-inf) == '-inf'; both parse back


def to_query_params(inputs: Inputs, view: View | None = None) -> dict[str, str]:
    """The URL parameters for ``inputs`` and ``view``: only the fields that differ from the defaults.

    >>> to_query_params(Inputs())
    {}
    """
    params = {}
    for value, keys in ((inputs, INPUT_URL_KEYS), (view or View(), VIEW_URL_KEYS)):
        defaults = type(value)()
        for f in fields(value):
            if getattr(value, f.name) != getattr(defaults, f.name):
                params[keys[f.name]] = _format_field(getattr(value, f.name))
    return params


def _short(raw: str, limit: int = 40) -> str:
    return raw if len(raw) <= limit else raw[:limit] + "…"


def from_query_params(params) -> tuple[Inputs, View, list[str]]:
    """Inputs and View from URL parameters, and a notice for every value that was refused.

    ``params`` maps names to a string or a list of strings (the last one wins).
    Missing or refused values take their defaults; unknown names are ignored.

    >>> from_query_params({"seed": "-3"})[2]
    ["Ignored URL parameter seed='-3': expected a whole number from 0 to 4294967295."]
    """
    notices = []
    parsed = []
    for cls, keys in ((Inputs, INPUT_URL_KEYS), (View, VIEW_URL_KEYS)):
        values = {}
        for name, key in keys.items():
            if key not in params:
                continue
            raw = params[key]
            if isinstance(raw, (list, tuple)):
                raw = raw[-1] if raw else ""
            raw = str(raw)
            try:
                values[name] = _parse_field(cls, name, raw)
            except ValueError as why:
                notices.append(f"Ignored URL parameter {key}={_short(raw)!r}: {why}.")
        parsed.append(replace(cls(), **values))
    inputs, view = parsed
    return inputs, view, notices


def sequence_in_batch(inputs: Inputs) -> tuple[Inputs, list[str]]:
    """``inputs`` with a sequence that exists in its typed batch, and a notice if the URL's did not.

    The URL codec round-trips any value; only once the text is parsed is it known how many
    sequences there are (one when packed).

    >>> sequence_in_batch(Inputs(sequence=99))[1]
    ['Ignored URL parameter seq=99: the text has 3 sequences (0 to 2).']
    """
    try:
        rows = len(tokenize(inputs.text, inputs.pad_token, padding_side=inputs.padding_side,
                            packed=inputs.packed).tokens)
    except MaskAttnError:                     # no tokens: the page says so; sequence 0 is all there is
        rows = 1
    if inputs.sequence < rows:
        return inputs, []
    return replace(inputs, sequence=0), [
        f"Ignored URL parameter {INPUT_URL_KEYS['sequence']}={inputs.sequence!r}: the text has {rows} "
        f"sequence{'s' if rows != 1 else ''} (0 to {rows - 1})."]


def row_in_sequence(inputs: Inputs, view: View) -> tuple[View, list[str]]:
    """``view`` with a query row that exists in the sequence on view, and a notice if the URL's did not.

    >>> row_in_sequence(Inputs(), View(row=99))
    (View(row=0, presentation=False, preset='', layer=6, head=1), ['Ignored URL parameter row=99: the sequence has 6 tokens (rows 0 to 5).'])
    """
    try:
        batch = tokenize(inputs.text, inputs.pad_token, padding_side=inputs.padding_side, packed=inputs.packed)
        T = len(batch.tokens[min(inputs.sequence, len(batch.tokens) - 1)])
    except MaskAttnError:                     # no tokens: the page says so
        return view, []
    if view.row < T:
        return view, []
    return replace(view, row=0), [f"Ignored URL parameter {VIEW_URL_KEYS['row']}={view.row!r}: the sequence has "
                                  f"{T} tokens (rows 0 to {T - 1})."]


def loopback_host(url: str) -> str | None:
    """The host of ``url`` when it is a loopback address (this computer only), else None.

    A link on a loopback address (``localhost``, ``127.x.x.x``, ``::1``) opens only on the computer
    that serves the app: a class cannot open it.

    >>> loopback_host("http://127.0.0.2:8501/classroom"), loopback_host("http://localhost:8501/")
    ('127.0.0.2', 'localhost')
    >>> loopback_host("http://192.168.1.20:8501/") is None, loopback_host("http://[::1]:8501/")
    (True, '::1')
    """
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return host
    try:
        return host if ipaddress.ip_address(host).is_loopback else None
    except ValueError:                                 # a host name: the network resolves it, not this computer
        return None
