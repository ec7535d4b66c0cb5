"""A mask drawn by hand: parse a typed 0/1 matrix, name its pattern, say what each query sees.

>>> seed = parse_mask("[0 0 1; 1 0 0; 0 1 0]")     # the seed question's own matrix
>>> seed
((0, 0, 1), (1, 0, 0), (0, 1, 0))
>>> classify_mask(seed)
'arbitrary'
>>> explain_mask_rows(seed, ["the", "cat", "sat"])[0]
'Query 0 (the) sees 2 of 3 keys: 0 (the), 1 (cat); blocked: 2 (sat).'
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import MaskAttnError
from ..text import count
from ..tokens import MAX_TOKENS_PER_SEQUENCE
from .basic import binary_mask, create_look_ahead_mask
from .patterns import create_prefix_lm_mask, create_sliding_window_mask

#: the largest drawn mask (one row and one column per token) and the longest text we parse
MAX_DRAWN_SIZE = MAX_TOKENS_PER_SEQUENCE
MAX_MASK_TEXT_CHARS = 200_000
EXAMPLE_MASK_TEXT = "[0 0 1; 1 0 0; 0 1 0]"
#: the largest mask a link carries: its compact text is T·(T + 1) - 1 characters (4,159 at 64)
MAX_COMPACT_SIZE = 64

#: what ``classify_mask`` can answer, with what each kind means
MASK_KINDS: dict[str, str] = {
    "empty": "nothing is blocked: the same as no mask",
    "everything": "every cell is blocked: every row is fully masked",
    "look-ahead": "the look-ahead (causal) mask: each query sees itself and the keys before it",
    "padding-like": "whole key columns are blocked, like a padding mask (B, 1, 1, Tk) copied down every query",
    "query-padding-like": "whole query rows are blocked, like a query padding mask (B, 1, Tq, 1)",
    "padding-and-query-padding-like": "whole key columns and whole query rows are blocked (Keras / Flax padding)",
    "look-ahead-and-padding-like": "the look-ahead mask plus whole key columns: the tutorial's tf.maximum of the two",
    "sliding-window-like": "a causal band: each query sees itself and a fixed number of keys before it",
    "prefix-lm-like": "a prefix LM: the first keys are seen by every query, causal after them",
    "document-like": "blocks along the diagonal: tokens see only their own group (packed documents)",
    "look-ahead-and-document-like": "blocks along the diagonal, causal inside each: packed documents in a decoder",
    "reversed-look-ahead": "the look-ahead mask transposed: each query sees itself and the keys *after* it",
    "inverted-look-ahead": "the look-ahead mask with 0 and 1 swapped (a 1 = attend mask read as 1 = blocked)",
    "causal-like": "only future keys are blocked, but not all of them: part of the look-ahead mask",
    "arbitrary": "no named pattern",
}


def validate_drawn(mask) -> tuple[tuple[int, ...], ...]:
    """A square 0/1 matrix as a tuple of tuples of ints (hashable), or ``MaskAttnError``.

    >>> validate_drawn([[0, 1.0], [0, 0]])
    ((0, 1), (0, 0))
    >>> validate_drawn([[0, 2], [0, 0]])
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: a drawn mask must hold only 0 (attend) and 1 (blocked), got 2 at row 1, column 2
    """
    try:
        arr = np.asarray(mask)
    except (ValueError, TypeError):
        raise MaskAttnError(f"a drawn mask must be a rectangular 0/1 matrix, got {mask!r:.60}") from None
    if arr.dtype == bool:
        raise MaskAttnError("a drawn mask uses the numbers 0 and 1 (1 = blocked), got True/False: "
                            "booleans mean 'attend' in PyTorch and 'blocked' elsewhere")
    if arr.dtype.kind not in "iuf":
        raise MaskAttnError(f"a drawn mask must be a rectangular 0/1 matrix, got {mask!r:.60}")
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.size == 0:
        raise MaskAttnError(f"a drawn mask must be square (T×T: one row per query, one column per key), "
                            f"got shape {arr.shape}")
    if arr.shape[0] > MAX_DRAWN_SIZE:
        raise MaskAttnError(f"a drawn mask has at most {MAX_DRAWN_SIZE} rows, got {arr.shape[0]}")
    arr = binary_mask(arr, "a drawn mask")
    return tuple(tuple(int(x) for x in row) for row in arr)


def parse_mask(text: str) -> tuple[tuple[int, ...], ...]:
    """A typed square 0/1 matrix; rows end at ``;``, a line break or ``]``.

    Reads MATLAB-style ``[0 0 1; 1 0 0; 0 1 0]``, plain lines, NumPy printouts
    (``[[0. 1.]\\n [0. 0.]]``) and Python lists (``[[0, 1], [0, 0]]``).

    >>> parse_mask("0 1\\n0 0") == parse_mask("[[0. 1.]\\n [0. 0.]]") == parse_mask("[[0, 1], [0, 0]]")
    True
    >>> parse_mask("[0 1; 0]")
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: row 2 has 1 cell but row 1 has 2 cells: every row needs one cell per key
    """
    if not isinstance(text, str):
        raise MaskAttnError(f"the mask must be typed as text, got {type(text).__name__}")
    if len(text) > MAX_MASK_TEXT_CHARS:
        raise MaskAttnError(f"the mask text is {len(text):,} characters long; the limit is {MAX_MASK_TEXT_CHARS:,}")
    body = re.sub(r"^\s*\w+\(|,\s*dtype=[\w.]+|\)\s*$", "", text.strip())   # array([...], dtype=...)
    lines = re.split(r"[;\n\]]", body.replace("[", " "))
    rows = [cells for cells in (re.split(r"[,\s]+", line.strip(" ,\t\r")) for line in lines) if cells != [""]]
    if not rows:
        raise MaskAttnError(f"type a 0/1 matrix, one row per query, such as {EXAMPLE_MASK_TEXT}; got {text[:40]!r}")
    for i, row in enumerate(rows, start=1):
        if len(row) != len(rows[0]):
            raise MaskAttnError(f"row {i} has {count(len(row), 'cell')} but row 1 has "
                                f"{count(len(rows[0]), 'cell')}: every row needs one cell per key")
        for j, cell in enumerate(row, start=1):
            if cell not in ("0", "1", "0.", "1.", "0.0", "1.0"):
                raise MaskAttnError(f"a mask cell must be 0 or 1 (1 = blocked), got {cell[:20]!r} "
                                    f"at row {i}, column {j}")
    return validate_drawn([[float(c) for c in row] for row in rows])


def compact_mask(mask) -> str:
    """A 0/1 mask as short URL-safe text: each row's digits, rows joined by ``-``.

    >>> compact_mask([[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    '001-100-010'
    """
    return "-".join("".join(str(cell) for cell in row) for row in validate_drawn(mask))


def parse_compact_mask(text: str) -> tuple[tuple[int, ...], ...]:
    """Read ``compact_mask``'s text back (what a shared link carries), up to ``MAX_COMPACT_SIZE`` rows.

    >>> parse_compact_mask("001-100-010")
    ((0, 0, 1), (1, 0, 0), (0, 1, 0))
    >>> parse_compact_mask("01-1")
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: a compact mask is rows of 0 and 1 joined by '-', one digit per key and as many rows as keys (such as 001-100-010), got '01-1'
    """
    if not isinstance(text, str):
        raise MaskAttnError(f"a compact mask must be text, got {type(text).__name__}")
    rows = text.strip().split("-")
    if len(rows) > MAX_COMPACT_SIZE:
        raise MaskAttnError(f"a compact mask has at most {MAX_COMPACT_SIZE} rows, got {len(rows)}")
    if not all(re.fullmatch("[01]+", row) and len(row) == len(rows) for row in rows):
        raise MaskAttnError("a compact mask is rows of 0 and 1 joined by '-', one digit per key and as many "
                            f"rows as keys (such as 001-100-010), got {text[:40]!r}")
    return tuple(tuple(int(c) for c in row) for row in rows)


def format_mask(mask) -> str:
    """A 0/1 mask as text ``parse_mask`` reads back: one line per query, cells split by spaces.

    >>> print(format_mask([[0, 1], [0, 0]]))
    0 1
    0 0
    """
    return "\n".join(" ".join(str(cell) for cell in row) for row in validate_drawn(mask))


def _blocked(mask) -> np.ndarray:
    arr = binary_mask(mask, "mask")
    if arr.ndim != 2 or arr.size == 0:
        raise MaskAttnError(f"mask must be a (Tq, Tk) matrix of 0 and 1, got shape {arr.shape}")
    return arr == 1                                                # (Tq, Tk) True = blocked


def _document_groups(visible: np.ndarray) -> np.ndarray:
    """A group per token, guessed from who sees whom: the first token of its group (causal or not).

    Only a guess: ``classify_mask`` keeps it only if the mask equals the document mask it implies.
    """
    together = visible | visible.T | np.eye(len(visible), dtype=bool)   # (T, T) symmetric
    return together.argmax(axis=1)                                       # (T,) first member


def classify_mask(mask) -> str:
    """Name the pattern of a 0/1 mask ``(Tq, Tk)``; one of ``MASK_KINDS``.

    The checks are exact: a mask is "sliding-window-like" only if it equals
    ``create_sliding_window_mask`` for some window, and so on.

    >>> classify_mask([[0, 0, 1], [0, 0, 1], [0, 0, 1]]), classify_mask([[0, 1], [0, 0]])
    ('padding-like', 'look-ahead')
    >>> classify_mask([[0, 1, 1], [0, 0, 1], [1, 0, 0]])
    'sliding-window-like'
    """
    m = _blocked(mask)
    Tq, Tk = m.shape
    cols, rows = m.all(axis=0), m.all(axis=1)                    # (Tk,), (Tq,) fully blocked lines
    if not m.any():
        return "empty"
    if m.all():
        return "everything"
    candidates = {
        "padding-like": np.broadcast_to(cols, m.shape),
        "query-padding-like": np.broadcast_to(rows[:, None], m.shape),
        "padding-and-query-padding-like": rows[:, None] | cols[None, :],
    }
    if Tq == Tk:
        T = Tq
        look_ahead = create_look_ahead_mask(T) == 1                               # (T, T)
        visible = ~m
        groups = _document_groups(visible)
        documents = groups[:, None] != groups[None, :]                           # (T, T)
        window = T - int(m[-1].sum())                                            # keys the last query sees
        prefix = int(visible[0].sum())                                           # keys the first query sees
        candidates = {
            "look-ahead": look_ahead,
            **candidates,
            "look-ahead-and-padding-like": look_ahead | (m | look_ahead).all(axis=0)[None, :],
            "sliding-window-like": create_sliding_window_mask(T, max(window, 1)) == 1,
            "prefix-lm-like": create_prefix_lm_mask(T, min(prefix, T)) == 1,
            "document-like": documents,
            "look-ahead-and-document-like": look_ahead | documents,
            "reversed-look-ahead": look_ahead.T,
            "inverted-look-ahead": ~look_ahead,
        }
    for kind, pattern in candidates.items():
        if np.array_equal(m, pattern):
            return kind
    if Tq == Tk and not (m & ~look_ahead).any():
        return "causal-like"
    return "arbitrary"


def describe_mask(mask) -> str:
    """One sentence: what pattern the mask is, with its numbers (window, prefix, groups).

    >>> describe_mask([[0, 1, 1], [0, 0, 1], [1, 0, 0]])
    'A sliding window of 2 keys: each query sees itself and the 1 key before it (q − kv < 2, as Hugging Face counts it; FlashAttention and JAX call the same mask a window of 1: q − kv ≤ 1).'
    >>> describe_mask([[0, 0, 1], [1, 0, 0], [0, 1, 0]])[:40]
    'No named pattern: the blocked cells are '
    """
    m = _blocked(mask)
    kind = classify_mask(m)
    T = m.shape[0]
    if kind == "sliding-window-like":
        w = T - int(m[-1].sum())
        sees = "only itself" if w == 1 else f"itself and the {w - 1} key{'s' * (w != 2)} before it"
        other = (f"; FlashAttention and JAX call the same mask a window of {w - 1}: q − kv ≤ {w - 1}"
                 if w > 1 else "")
        return (f"A sliding window of {w} key{'s' * (w != 1)}: each query sees {sees} "
                f"(q − kv < {w}, as Hugging Face counts it{other}).")
    if kind == "prefix-lm-like":
        p = int((~m[0]).sum())
        return (f"A prefix LM with a prefix of {p}: every query sees keys 0–{p - 1}; beyond them, "
                "only itself and the keys before it.")
    if kind in ("document-like", "look-ahead-and-document-like"):
        n = len(set(_document_groups(~m).tolist()))
        causal = ", causal inside each" if kind.startswith("look-ahead") else ""
        return f"{n} documents along the diagonal: each token sees only its own document{causal}."
    if kind in ("padding-like", "look-ahead-and-padding-like"):
        keys = np.flatnonzero((m | (create_look_ahead_mask(T) == 1)).all(axis=0) if kind != "padding-like"
                              else m.all(axis=0))
        return f"{_sentence(MASK_KINDS[kind])}; blocked keys: {position_spans(keys)}."
    if kind in ("query-padding-like", "padding-and-query-padding-like"):
        return f"{_sentence(MASK_KINDS[kind])}; fully masked queries: {position_spans(np.flatnonzero(m.all(axis=1)))}."
    if kind == "arbitrary":
        return ("No named pattern: the blocked cells are not whole key columns (padding), not whole "
                "query rows (query padding) and not the triangle above the diagonal (look-ahead). "
                "A padding mask never scatters ones: it is one row (B, 1, 1, Tk) copied down every query.")
    return f"{_sentence(MASK_KINDS[kind])}."


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:]


def position_spans(indices, labels=None) -> str:
    """Positions as short text, runs of three or more shortened; with labels, each is named.

    >>> position_spans([0, 1, 2, 5]), position_spans([3, 4], ["a", "b", "c", "d", "e"])
    ('0–2, 5', '3 (d), 4 (e)')
    """
    name = (lambda j: str(j)) if labels is None else (lambda j: f"{j} ({labels[j]})")
    runs, out = [], []
    for j in indices:
        if runs and j == runs[-1][-1] + 1:
            runs[-1].append(j)
        else:
            runs.append([j])
    for run in runs:
        if len(run) >= 3:
            out.append(f"{name(run[0])}–{name(run[-1])}")
        else:
            out.extend(name(j) for j in run)
    return ", ".join(out)


def explain_mask_rows(mask, labels=None) -> list[str]:
    """One sentence per query row: which keys it may see and which are blocked.

    labels: one per key (token texts), used for the queries too when the mask is square.

    >>> explain_mask_rows([[0, 1], [1, 1]])
    ['Query 0 sees 1 of 2 keys: 0; blocked: 1.', 'Query 1 sees no key: a fully masked row, its softmax has nothing to choose from.']
    """
    m = _blocked(mask)
    Tq, Tk = m.shape
    if labels is not None:
        labels = [str(label) for label in labels]
        if len(labels) != Tk:
            raise MaskAttnError(f"labels must name the {Tk} keys, got {len(labels)} labels")
    sentences = []
    for i, row in enumerate(m):
        query = f"Query {i}" + (f" ({labels[i]})" if labels is not None and Tq == Tk else "")
        seen, blocked = np.flatnonzero(~row), np.flatnonzero(row)
        if not seen.size:
            sentences.append(f"{query} sees no key: a fully masked row, its softmax has nothing to choose from.")
        elif not blocked.size:
            sentences.append(f"{query} sees all {Tk} keys.")
        else:
            sentences.append(f"{query} sees {seen.size} of {Tk} keys: {position_spans(seen, labels)}; "
                             f"blocked: {position_spans(blocked, labels)}.")
    return sentences
