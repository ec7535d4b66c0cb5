"""What every framework entry is: a mask convention, a masking rule, a softmax, and its proof.

A ``Framework`` answers one question the same way for every library:
``weights(logits, mask, dtype)`` — the attention weights the real library
returns for these scaled logits ``(..., Tq, Tk)`` and this tutorial-convention
mask (1 = blocked). The arithmetic is NumPy, written to mirror the library's own
code line by line (``model``); tests/test_frameworks_real.py runs the real
library on random inputs and compares.

The helpers below are the few ways libraries round: a ``where``/fill or an
``add`` in the tensors' dtype, a Python scalar multiplied in (PyTorch computes
it wide, TensorFlow converts it to the dtype first), and softmax computed in
float32 (float64) and rounded once, or step by step in the dtype.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from .. import numerics as nx
from ..text import spell
from ..errors import MaskAttnError
from ..masks.basic import binary_mask
from ..masks.parts import NEWER_PARTS, PART
from ..masks.patterns import window_reach

#: what a 1 / True in a mask means to a library
BLOCKED, ATTEND, ADDED = "blocked", "attend", "added"


# ------------------------------------------------------------------------------------------------
# mask conventions
# ------------------------------------------------------------------------------------------------

def tutorial_mask(mask, name: str = "mask") -> np.ndarray:
    """A tutorial-convention mask (1 = blocked) as float32, checked to hold only 0 and 1.

    >>> tutorial_mask([[True, False]]).tolist()
    [[1.0, 0.0]]
    >>> tutorial_mask([[0, 2]])
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: mask must hold only 0 (attend) and 1 (blocked), got 2 at row 1, column 2
    """
    return binary_mask(mask, name)


@dataclass(frozen=True)
class Convention:
    """How a library wants its attention mask: what 1 / True means, its dtype and shape.

    ``convert(blocked, dtype)`` turns a bool array (True = blocked, the tutorial's 1)
    into exactly the values the library receives, same shape.
    """

    one_means: str                                  # BLOCKED, ATTEND or ADDED (a float mask added to the logits)
    dtype: str                                      # the mask's dtype, as the library names it
    shape: str                                      # the shape the library documents
    convert: Callable[[np.ndarray, str], np.ndarray] = field(repr=False, compare=False)

    def to_library(self, mask, dtype="float32") -> np.ndarray:
        """The tutorial mask in this convention (same shape).

        >>> ATTEND_BOOL.to_library([[0.0, 1.0]]).tolist()
        [[True, False]]
        """
        return self.convert(tutorial_mask(mask) == 1, nx.dtype_name(dtype))


TUTORIAL_FLOAT = Convention(BLOCKED, "float32 (1.0 / 0.0)", "padding (B, 1, 1, Tk), look-ahead (Tq, Tk)",
                            lambda blocked, dtype: blocked.astype(np.float32))
ATTEND_BOOL = Convention(ATTEND, "bool", "broadcastable to (B, H, Tq, Tk)", lambda blocked, dtype: ~blocked)
BLOCKED_BOOL = Convention(BLOCKED, "bool", "attn_mask (Tq, Tk) or (B·H, Tq, Tk); key_padding_mask (B, Tk)",
                          lambda blocked, dtype: blocked.copy())


# ------------------------------------------------------------------------------------------------
# the newer masks: how each library expresses them
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expression:
    """How a library expresses one of the newer masks (tests/test_frameworks_real.py runs each claim)."""

    api: str        # the exact call, argument or setting
    native: bool    # an argument or mask function of its own (False: build the mask and pass it in)
    short: str      # the same in a few words, for a table cell


def expressions(*, short: dict[str, str] | tuple[str, ...], native: tuple[str, ...] = (),
                **calls: str) -> dict[str, Expression]:
    """How one library expresses the newer masks, by their names in the table of mask parts
    (``window=…, document=…``); ``short``: the same in a few words each (a dict by part, or a tuple
    in the order of the calls); ``native`` names the parts it has an API of its own for. A part left
    out is said by the library's dialect (``Framework.expression``).
    """
    unknown = set(calls) - set(NEWER_PARTS)
    if unknown:
        raise MaskAttnError(f"expressions are for {', '.join(NEWER_PARTS)}, got {', '.join(sorted(unknown))}")
    briefs = short if isinstance(short, dict) else dict(zip(calls, short))
    return {part: Expression(calls[part], part in native, briefs[part]) for part in NEWER_PARTS if part in calls}


# ------------------------------------------------------------------------------------------------
# the ways libraries round
# ------------------------------------------------------------------------------------------------

def wide(dtype) -> str:
    """The type a library computes a 16-bit softmax in: float32 (float64 stays float64)."""
    return "float64" if nx.dtype_name(dtype) == "float64" else "float32"


def constant(value: float, dtype) -> np.ndarray:
    """A Python number as a 0-d array of ``dtype`` (``-1e9`` is ``-inf`` in float16)."""
    return nx.cast(value, dtype)


def fill(blocked, x, value, dtype) -> np.ndarray:
    """``where(blocked, value, x)`` in ``dtype``: the fill (``masked_fill``, ``jnp.where``)."""
    dt = nx.resolve_dtype(dtype)
    return np.where(blocked, nx.cast(value, dtype), nx.cast(x, dtype)).astype(dt)


def scalar_times_mask(blocked, scalar: float, dtype) -> np.ndarray:
    """PyTorch's ``mask.to(dtype) * scalar``: the product is taken wide, then rounded to ``dtype``.

    A Python scalar is not converted to float16 first, so ``0 * -1e9`` is ``-0.0``
    and ``1 * -1e9`` rounds to ``-inf``: no NaN (TensorFlow converts first: NaN).

    >>> scalar_times_mask(np.array([True, False]), -1e9, "float16").tolist()
    [-inf, -0.0]
    """
    with np.errstate(all="ignore"):
        product = np.asarray(blocked, np.float64) * scalar
    return nx.cast(product, dtype)


def softmax_wide(z, dtype) -> np.ndarray:
    """Softmax over the last axis computed in float32 (float64) and rounded once to ``dtype``.

    This is what TensorFlow, PyTorch and JAX do for 16-bit inputs. A row of
    only -inf gives NaN (``-inf - (-inf)``), as the plain softmax of every library does.

    >>> softmax_wide([[1.0, 2.0, 3.0]], "bfloat16").astype(float).tolist()
    [[0.08984375, 0.2451171875, 0.6640625]]
    """
    acc = nx.resolve_dtype(wide(dtype))
    x = nx.as_array(z, "scores").astype(np.float64).astype(acc)
    with np.errstate(all="ignore"):
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
        w = e / np.sum(e, axis=-1, keepdims=True)
    return nx.cast(w, dtype)


def softmax_steps(z, dtype) -> np.ndarray:
    """Softmax with every step rounded to ``dtype`` (``jax.nn.softmax`` on 16-bit arrays)."""
    return nx.softmax(z, dtype)


def flush_subnormals(x, dtype) -> np.ndarray:
    """Values below ``finfo(dtype).tiny`` in magnitude become 0 (flush-to-zero, as TensorFlow's CPU threads).

    >>> flush_subnormals(np.array([1e-40, 1e-30], np.float32), "float32").tolist()
    [0.0, 1.0000000031710769e-30]
    """
    arr = np.asarray(x)
    tiny = float(nx.finfo(dtype).tiny)
    return np.where(np.abs(arr.astype(np.float64)) < tiny, arr.dtype.type(0), arr).astype(arr.dtype)


def zero_fully_masked(weights, scores) -> np.ndarray:
    """Rows whose every score is -inf get weight 0 instead of NaN (PyTorch's ``_safe_softmax``)."""
    dead = np.all(np.isneginf(np.asarray(scores).astype(np.float64)), axis=-1, keepdims=True)
    return np.where(dead, np.zeros((), weights.dtype), weights).astype(weights.dtype)


#: how TensorFlow's oneDNN softmax treats the numbers of a row that holds a NaN. What is
#: guaranteed on every CPU: NaN wherever the masked logits are NaN. The other cells of such a
#: row come out NaN or exactly 0 by the CPU's vector width and oneDNN's kernel for it (measured:
#: on one AVX-512 host the whole row, on another only the NaN cells for rows of up to 8 keys,
#: and a lane pattern beyond). The registry shows the common case, the whole row NaN;
#: ``Framework.cpu_dependent`` names the cells that may be 0 instead.
_TF_NAN_RULE: ContextVar[str] = ContextVar("tf_nan_rule", default="whole row")


def cpu_note(cells: int) -> str:
    """The sentence shown beside weights with ``cells`` CPU-dependent cells (``Framework.cpu_dependent``).

    >>> cpu_note(2)
    "2 NaN cells here come out as exactly 0 on some CPUs: TensorFlow's oneDNN softmax is NaN where the masked logits are NaN on every CPU, and NaN or 0 on the rest of such a row by the CPU's vector width (the picture shows the common case, the whole row NaN)."
    """
    what = "1 NaN cell here comes" if cells == 1 else f"{cells} NaN cells here come"
    return (f"{what} out as exactly 0 on some CPUs: TensorFlow's oneDNN softmax is NaN where the masked logits are "
            "NaN on every CPU, and NaN or 0 on the rest of such a row by the CPU's vector width (the picture shows "
            "the common case, the whole row NaN).")


def tf_softmax(z, dtype) -> np.ndarray:
    """``tf.nn.softmax`` on CPU: float32 arithmetic rounded once, and its rule for NaN rows.

    A row holding a NaN is NaN throughout: float64 runs Eigen, which spreads one NaN to the
    whole row on every CPU; float16, bfloat16 and float32 run oneDNN, which is guaranteed to
    put NaN on the NaN cells only, and gives the rest of the row NaN or 0 by CPU (the common
    case, shown here, is NaN; see ``Framework.cpu_dependent``). TensorFlow's threads flush
    subnormal results to zero.

    >>> tf_softmax([[np.nan, 1.0, -np.inf, -np.inf], [1.0, 1.0, -np.inf, -np.inf]], "float32").tolist()
    [[nan, nan, nan, nan], [0.5, 0.5, 0.0, 0.0]]
    """
    w = flush_subnormals(softmax_wide(z, wide(dtype)), wide(dtype))
    w = nx.cast(w, dtype)
    nan = np.isnan(np.asarray(z).astype(np.float64))
    dt = w.dtype
    if _TF_NAN_RULE.get() == "nan cells only" and nx.dtype_name(dtype) != "float64":
        return np.where(nan.any(axis=-1, keepdims=True), np.where(nan, dt.type(np.nan), dt.type(0)), w).astype(dt)
    return np.where(nan.any(axis=-1, keepdims=True), dt.type(np.nan), w).astype(dt)


# ------------------------------------------------------------------------------------------------
# a framework
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Framework:
    """One library's attention path: its mask convention, how it masks, and what it computes.

    ``model(x, blocked, dtype, fw)``: NumPy mirror of the library's code; ``x`` the
    logits rounded to ``dtype``, ``blocked`` a bool array (True = blocked) of the same
    shape. ``constant(dtype)`` is the number the library puts in a blocked score and the
    dtype it is computed in. ``dialect`` says a mask the library's way (``_dialect``);
    ``mask_code(state)`` returns (imports, the lines that build the state's mask in ``mask``)
    and ``snippet(state)``, where the library has one, a whole script that prints the weights
    (``state`` is a ``codegen.CodeState``).
    """

    key: str                # registry key
    library: str            # the library and the version it was checked against
    api: str                # the call that receives the mask
    path: str               # which path of the library this is, in a few words
    default: bool           # the path a user of this library gets without asking for another
    how_to_get: str         # the argument or setting that selects this path
    convention: Convention  # the mask as the library receives it
    applies: str            # how the mask reaches the scores: "add", "fill" or "bool"
    constant: Callable[[str], tuple[float, str]] = field(repr=False, compare=False)
    softmax: str            # where the softmax is computed and how it is rounded
    source: str             # the file that does it
    model: Callable = field(repr=False, compare=False)
    dtypes: tuple[str, ...] = nx.DTYPE_NAMES
    snippet: Callable | None = field(default=None, repr=False, compare=False)
    added: Callable | None = field(default=None, repr=False, compare=False)   # ADDED conventions: logits + values
    mask_value: float | None = None   # for paths that take the app's constant (the tutorial's function)
    method: str | None = None
    expressions: dict[str, Expression] = field(default_factory=dict, repr=False, compare=False)  # NEWER_PARTS
    window_setting: Callable[[int, int | None], object] | None = field(default=None, repr=False, compare=False)
    # (reach back, keys ahead or None) -> the setting's value, or None when the setting cannot say that window
    window_parameter: str | None = None   # the name of the library's own window setting
    package: str = ""                     # the real library's import name (the tests run it)
    code_package: str | None = None       # the import name its mask code needs, when not ``package``
    dialect: object | None = field(default=None, repr=False, compare=False)   # _dialect.Dialect: how it says a mask
    prints: str = ""                      # the lines that print a snippet's weights and output
    mask_within_logits: bool = False      # the mask may not enlarge the logits (Keras 3's Softmax raises ValueError)
    mask_code: Callable | None = field(default=None, repr=False, compare=False)   # state -> (imports, mask lines)

    # --- the one public question -----------------------------------------------------------------

    def weights(self, logits, mask, dtype="float32") -> np.ndarray:
        """The attention weights this library returns for ``logits`` and tutorial ``mask`` (1 = blocked).

        ``logits (..., Tq, Tk)`` are first rounded to ``dtype`` as the layer's inputs
        would be; ``mask`` broadcasts to them (``None``: no mask is passed at all, the
        tutorial's ``if mask is not None``). Returns ``(..., Tq, Tk)`` in ``dtype``.
        Where the real library raises, this raises ``MaskAttnError`` with its reason.
        """
        dtype = self.check_dtype(dtype)
        x = nx.cast(nx.as_array(logits, "logits"), dtype)
        if x.ndim < 1 or x.shape[-1] == 0:
            raise MaskAttnError(f"logits must have shape (..., Tq, Tk) with Tk >= 1, got shape {x.shape}")
        if mask is None:                   # no mask term at all; for every other path the same as all zeros
            if self.mask_value is not None:
                return self.model(x.copy(), None, dtype, self)
            mask = np.zeros(x.shape, np.float32)
        blocked = tutorial_mask(mask) == 1
        if self.mask_within_logits and (blocked.ndim > x.ndim or any(
                m not in (1, n) for m, n in zip(blocked.shape[::-1], x.shape[::-1]))):
            raise MaskAttnError(f"{self.library} raises ValueError: the mask of shape {blocked.shape} must broadcast "
                                f"to the logits of shape {x.shape} without more dimensions or larger ones")
        try:
            x, blocked = np.broadcast_arrays(x, blocked)
        except ValueError:
            raise MaskAttnError(f"mask of shape {blocked.shape} does not broadcast to logits of shape "
                                f"{x.shape}") from None
        return self.model(x.copy(), blocked.copy(), dtype, self)

    def cpu_dependent(self, logits, mask, dtype="float32") -> np.ndarray:
        """Cells of ``weights(logits, mask, dtype)`` that the real library gives as NaN on some
        CPUs and as exactly 0 on others (bool, the weights' shape); everywhere else the answer is
        the same on every CPU (numbers within rounding).

        TensorFlow's oneDNN softmax is the one such case: in a row that holds a NaN only the NaN
        cells are NaN on every CPU. ``weights`` shows the common case (the whole row NaN).

        >>> from maskattn.frameworks import get
        >>> get("tf_tutorial").cpu_dependent([[1.0, 2.0, 3.0]], [[0, 0, 1]], "float16").tolist()
        [[False, False, True]]
        >>> get("torch_sdpa").cpu_dependent([[1.0, 2.0, 3.0]], [[0, 0, 1]], "float16").tolist()
        [[False, False, False]]
        """
        common = np.isnan(self.weights(logits, mask, dtype).astype(np.float64))
        token = _TF_NAN_RULE.set("nan cells only")
        try:
            guaranteed = np.isnan(self.weights(logits, mask, dtype).astype(np.float64))
        finally:
            _TF_NAN_RULE.reset(token)
        return common & ~guaranteed

    def expression(self, part: str) -> Expression:
        """How this library expresses newer mask ``part`` (a name of ``NEWER_PARTS``): its own words where
        its file gives them, else the part's rule written in its dialect, as a mask built and passed in.

        >>> from maskattn.frameworks import get
        >>> get("jax").expression("window").native
        True
        """
        if part in self.expressions:
            return self.expressions[part]
        if part not in NEWER_PARTS:
            raise MaskAttnError(f"part must be one of {', '.join(NEWER_PARTS)}, got {part!r}")
        rule = PART[part].rule(self.dialect.polarity).format(**self.dialect.names)
        return Expression(f"{self.dialect.var} built with {rule}", False, self.dialect.var)

    def check_dtype(self, dtype) -> str:
        """``dtype``'s name if this framework runs it, else ``MaskAttnError`` naming the choices."""
        try:
            name = nx.dtype_name(dtype)
        except (MaskAttnError, TypeError, ValueError, SyntaxError):
            name = None
        if name not in self.dtypes:
            raise MaskAttnError(f"{self.key} runs in {', '.join(self.dtypes)}, got dtype {str(dtype)[:20]!r}")
        return name

    def with_constant(self, mask_value: float, method: str) -> "Framework":
        """This path with another constant and method (only for paths that take the app's constant)."""
        if self.mask_value is None:
            return self
        return replace(self, mask_value=float(mask_value), method=method)

    def window_argument(self, window: int, rule: str = "keys", right: int | None = None):
        """The value of this library's own window setting that sees exactly the keys of
        ``masks.create_sliding_window_mask(T, window, rule)`` (with ``right`` keys ahead: of
        ``create_two_sided_window_mask``); None when it has no setting that says that window.

        The app counts a window in keys (``rule="keys"``, as Hugging Face does) or in distance
        back (``"distance"``, as JAX and FlashAttention do): this is where the off-by-one is done.

        >>> from maskattn.frameworks import get
        >>> get("jax").window_argument(3), get("hf_sdpa").window_argument(3, "distance")
        ((2, 0), 4)
        >>> get("torch_mha").window_argument(3) is None, get("jax").window_argument(3, right=1)
        (True, (2, 1))
        >>> get("hf_sdpa").window_argument(3, right=1) is None          # its sliding_window looks back only
        True
        """
        reach = window_reach(window, rule)
        return None if self.window_setting is None else self.window_setting(reach, right)

    # --- text, generated from the fields ---------------------------------------------------------

    @property
    def name(self) -> str:
        """The library without its version: ``"Keras 3.15"`` -> ``"Keras"``."""
        return " ".join(w for w in self.library.split(" (")[0].split(" ") if not w[0].isdigit())

    @property
    def title(self) -> str:
        """``Library · path``, for headings.

        >>> from maskattn.frameworks import get
        >>> get("annotated_transformer").title, get("keras2").title
        ('Annotated Transformer · masked_fill(mask == 0, -1e9)', 'tf_keras · Softmax(mask=), adds')
        """
        return f"{self.name} · {self.path}"

    def constant_text(self, dtype) -> str:
        """The constant a blocked score gets in ``dtype``, as the library computes it.

        >>> from maskattn.frameworks import get
        >>> get("keras3").constant_text("float16")
        '-3e4 (float16)'
        """
        value, where = self.constant(nx.dtype_name(dtype))
        rounded = nx.to_float(nx.cast(value, where))
        return f"{spell(rounded, where)} ({where})"

    def mask_text(self) -> str:
        """What 1 / True means, the dtype and the shape, in one line."""
        c = self.convention
        meaning = {BLOCKED: "1 / True = blocked", ATTEND: "1 / True = attend",
                   ADDED: "float, added to the scores"}[c.one_means]
        return f"{c.dtype}, {meaning}, {c.shape}"

