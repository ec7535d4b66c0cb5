"""Export a Playground state: CSV per matrix, a JSON of the state and results, PNG/SVG figures.

Everything except the figure step is NumPy and the standard library. Numbers are
spelled by ``text.spell``, as on screen and in the hover: the shortest decimal that
reads back to the *same value in the compute dtype*, so a CSV or JSON value cast to
that dtype equals what the app computed, bit for bit. NaN and ±inf are written as
``NaN``, ``inf`` and ``-inf``: plain cells in CSV, strings in JSON (which has no such
numbers). File names carry the whole state (``file_tag``), so two cases never overwrite
each other; figures are laid out for publication (a fixed size per cell), whatever the
window.

Command line (figures need kaleido and Chromium; ``BROWSER_PATH`` defaults to
``/usr/bin/chromium``)::

    python -m maskattn.export --list-presets
    python -m maskattn.export --preset float16-nan --out figures/
    python -m maskattn.export --url "causal=1&dtype=float16" --out figures/ --formats csv,json
    python -m maskattn.export --text "the cat sat" --causal --constant -1e4 --out figures/

>>> from maskattn.state import Inputs
>>> from maskattn.pipeline import compute
>>> result = compute(Inputs(text="a b\\nc", causal=True))
>>> print(matrix_csv(result, "mask"), end="")
query \\ key,0·a,1·b
0·a,0,1
1·b,0,0
>>> file_tag(result)
'a-b--seq1--padding+causal--c-1e9--add--float32--d16-seed0--e39c53'

"""

from __future__ import annotations

import argparse
import csv
from dataclasses import asdict, fields
import hashlib
import io
import json
import os
from pathlib import Path
import sys
from urllib.parse import parse_qs, urlsplit

import numpy as np

from .errors import MaskAttnError
from .explain import row_table, verdicts
from .pipeline import PlaygroundResult, compute
from .presets import PRESETS, get_preset
from .state import (CONSTANT_PRESETS, INPUT_URL_KEYS, Inputs, controls, from_query_params, sequence_in_batch,
                    to_query_params)
from .text import NAN, NEG_INF, POS_INF, spell

#: the matrices the Playground shows, by export name (also the file stem; figures.FIGURE_NAMES too)
MATRIX_NAMES: tuple[str, ...] = ("mask", "logits", "mask-term", "masked-logits", "weights", "output")
#: what the first header cell of a CSV says: rows are queries, columns keys (or value dimensions)
CORNER = "query \\ key"
OUTPUT_CORNER = "query \\ value dimension"
JSON_FORMAT, JSON_VERSION = "maskattn.export", 1
JSON_ENCODING_NOTE = ("Numbers are the shortest decimals that read back to the same value in `dtype`. "
                      "NaN, +inf and -inf, which JSON cannot hold, are the strings \"NaN\", \"inf\" and \"-inf\".")
#: PNG pixels per layout pixel (the Playground's camera button uses 3 as well)
PNG_SCALE = 3
#: Debian's Chromium, used by kaleido when BROWSER_PATH is not set
DEFAULT_BROWSER = "/usr/bin/chromium"


# --- numbers -----------------------------------------------------------------------------------------

def parse_number(text: str) -> float:
    """Read back a number written by this module (``NaN``, ``inf``, ``-inf`` included).

    >>> parse_number("NaN") != parse_number("NaN"), parse_number("-inf"), parse_number("-1e9")
    (True, -inf, -1000000000.0)
    """
    return float(text)


def _json_number(x, dtype: str):
    """A JSON-ready number: a float that reads back to ``x`` in ``dtype``, or "NaN" / "inf" / "-inf"."""
    text = spell(x, dtype)
    return text if text in (NAN, POS_INF, NEG_INF) else float(text)


def _json_array(values: np.ndarray, dtype: str):
    """Nested lists of JSON numbers (non-finite as strings), any shape."""
    values = np.asarray(values)
    if values.ndim == 0:
        return _json_number(values, dtype)
    return [_json_array(v, dtype) for v in values]


# --- matrices ----------------------------------------------------------------------------------------

def matrix_values(result: PlaygroundResult, name: str) -> np.ndarray:
    """The named matrix (``MATRIX_NAMES``) as computed, in its dtype."""
    steps = result.steps
    by_name = {"mask": result.mask, "logits": steps.logits, "mask-term": steps.mask_term,
               "masked-logits": steps.masked_logits, "weights": steps.weights, "output": steps.output}
    try:
        return by_name[name]
    except KeyError:
        raise MaskAttnError(f"matrix must be one of {', '.join(MATRIX_NAMES)}, got {name!r}") from None


def matrix_labels(result: PlaygroundResult, name: str) -> tuple[list[str], list[str]]:
    """(column labels, row labels) of a matrix: keys and queries, or value dimensions for ``output``."""
    values = matrix_values(result, name)
    columns = [f"v{i}" for i in range(values.shape[-1])] if name == "output" else list(result.labels)
    return columns, list(result.labels)


def matrix_csv(result: PlaygroundResult, name: str) -> str:
    """One matrix as CSV text: a header of column labels, then one row per query with its label.

    The mask is written as 0/1 (1 = blocked); the other matrices in the compute dtype
    (``text.spell``: the same spelling as on screen). Token labels are ``position·token``, so a cell never starts
    with ``=``, ``+``, ``-`` or ``@`` and spreadsheets never read one as a formula.
    """
    values = matrix_values(result, name)                                     # (Tq, Tk) or (Tq, dv)
    columns, rows = matrix_labels(result, name)
    dtype = "float32" if name == "mask" else result.steps.dtype
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([OUTPUT_CORNER if name == "output" else CORNER, *columns])
    for label, row in zip(rows, values):
        cells = [str(int(v)) for v in row] if name == "mask" else [spell(v, dtype) for v in row]
        writer.writerow([label, *cells])
    return buffer.getvalue()


def read_matrix_csv(text: str) -> tuple[list[str], list[str], np.ndarray]:
    """Parse ``matrix_csv`` output back: (column labels, row labels, float64 values).

    >>> read_matrix_csv("query \\\\ key,0·a,1·b\\n0·a,1,-inf\\n")[2].tolist()
    [[1.0, -inf]]
    """
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    values = np.array([[parse_number(cell) for cell in row[1:]] for row in body], dtype=np.float64)
    return header[1:], [row[0] for row in body], values.reshape(len(body), len(header) - 1)


def _slug(text: str, limit: int) -> str:
    """Letters, digits and single dashes: safe in a file name on every system."""
    out = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in text.lower())
    out = "-".join(part for part in out.split("-") if part)
    return out[:limit].strip("-") or "x"


def file_tag(result: PlaygroundResult, *, masking: bool = True) -> str:
    """The whole state in a file name: tokens, sequence, masks, constant, method, dtype, model, and a
    short hash of every input (the text beyond the first tokens included), so two cases never share one.

    ``masking=False``: for a figure that does not depend on the mask (the raw logits), leave the masks,
    the constant and the method out: two cases that draw the same picture share its name, and the
    Playground's figure stays the same when only the mask changes (the browser does not redraw it).
    """
    inputs = result.inputs
    if masking:
        masks = [_slug(slug, 24) for slug, _ in inputs.mask_parts()] or ["nomask"]
        how = ["+".join(masks), "c" + spell(inputs.mask_value, digits=3), result.steps.method]
    else:                                   # only what the raw logits depend on: the batch layout
        how = [part for part, on in (("left", inputs.padding_side == "left"), ("packed", inputs.packed)) if on]
    named = inputs if masking else inputs.without_masking()
    digest = hashlib.sha256(repr(sorted(to_query_params(named).items())).encode()).hexdigest()[:6]
    model = f"d{inputs.d_model}-seed{inputs.seed}" + ("" if inputs.scale else "-unscaled") + (
        "" if inputs.positional else "-nope") + ("" if inputs.qk_mode == "projected" else "-shared")
    return "--".join([_slug(" ".join(result.tokens[:4]), 24), f"seq{result.sequence + 1}", *how,
                      result.steps.dtype, model, digest])


def all_csv(result: PlaygroundResult) -> dict[str, str]:
    """``{"mask--<tag>.csv": text, ...}`` for every matrix."""
    tag = file_tag(result)
    return {f"{name}--{tag}.csv": matrix_csv(result, name) for name in MATRIX_NAMES}


# --- JSON ----------------------------------------------------------------------------------------------

def _inputs_json(inputs: Inputs) -> dict:
    out = {}
    for key, value in asdict(inputs).items():
        out[key] = _json_number(value, "float64") if isinstance(value, float) else value
    return out


def to_json_dict(result: PlaygroundResult) -> dict:
    """The whole state and every result as JSON-ready data (see ``JSON_ENCODING_NOTE``)."""
    steps, inputs = result.steps, result.inputs
    dtype = steps.dtype
    rows = [{key: (_json_number(v, "float64") if isinstance(v, (float, np.floating)) else
                   bool(v) if isinstance(v, np.bool_) else v) for key, v in record.items()}
            for record in row_table(result)]
    return {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "encoding": JSON_ENCODING_NOTE,
        "inputs": _inputs_json(inputs),
        "query": to_query_params(inputs),
        "dtype": dtype,
        "method": steps.method,
        "mask_value": {"requested": _json_number(inputs.mask_value, "float64"),
                       "in_dtype": _json_number(steps.mask_value, dtype)},
        "sequence": result.sequence,
        "tokens": list(result.tokens),
        "labels": list(result.labels),
        "notices": list(result.notices),
        "matrices": {
            "mask": result.mask.astype(int).tolist(),
            "logits": _json_array(steps.logits, dtype),
            "mask_term": _json_array(steps.mask_term, dtype),
            "masked_logits": _json_array(steps.masked_logits, dtype),
            "weights": _json_array(steps.weights, dtype),
            "output": _json_array(steps.output, dtype),
        },
        "has_mask": result.has_mask,
        "softmax_steps": {
            "row_max": _json_array(steps.row_max[..., 0], dtype),
            "shifted": _json_array(steps.shifted, dtype),
            "exps": _json_array(steps.exps, dtype),
            "row_sum": _json_array(steps.row_sum[..., 0], dtype),
        },
        "unmasked_weights": _json_array(result.unmasked.weights, dtype),
        "rows": rows,
        "verdicts": verdicts(result),
    }


def to_json(result: PlaygroundResult, indent: int | None = 1) -> str:
    """``to_json_dict`` as strict JSON text (never a bare NaN or Infinity)."""
    return json.dumps(to_json_dict(result), indent=indent, ensure_ascii=False, allow_nan=False)


def inputs_from_json(text: str) -> Inputs:
    """The Inputs stored in an exported JSON (read through the URL codec, so bad values are refused).

    >>> from maskattn.pipeline import compute
    >>> s = Inputs(causal=True, constant="custom", custom_constant=float("-inf"))
    >>> inputs_from_json(to_json(compute(s))) == s
    True
    """
    data = json.loads(text)
    inputs, _, notices = from_query_params(data.get("query", {}))
    if notices:
        raise MaskAttnError("; ".join(notices))
    return inputs


# --- figures (the only step that needs Plotly) ----------------------------------------------------------

def build_figures(result: PlaygroundResult) -> dict:
    """The Playground's figures laid out for publication: a generous fixed cell size and type size,
    whatever the window (``figures.playground_figures``), imported lazily."""
    from . import figures                                   # noqa: PLC0415 (keeps the core Plotly-free)

    return figures.playground_figures(result, cell=figures.PUBLICATION_CELL, font_size=figures.PUBLICATION_FONT,
                                      width=None)


def figure_size(fig) -> tuple[int, int]:
    """(width, height) in layout pixels for a static export: the size the figure was laid out for."""
    return int(fig.layout.width or 700), int(fig.layout.height or 500)


def write_figures(figs: dict, out_dir: Path, formats=("png", "svg"), scale: int = PNG_SCALE,
                  tag: str = "") -> list[Path]:
    """Write each figure as PNG and/or SVG through kaleido and Chromium (offline: MathJax off).

    Files are named ``<figure>--<tag>.<format>`` (``tag``: ``file_tag`` of the state)."""
    if os.path.exists(DEFAULT_BROWSER):
        os.environ.setdefault("BROWSER_PATH", DEFAULT_BROWSER)
    import kaleido                                          # noqa: PLC0415

    specs, paths = [], []
    for name, fig in figs.items():
        width, height = figure_size(fig)
        for fmt in formats:
            path = out_dir / (f"{name}--{tag}.{fmt}" if tag else f"{name}.{fmt}")
            specs.append({"fig": fig, "path": path,
                          "opts": {"format": fmt, "width": width, "height": height,
                                   "scale": scale if fmt == "png" else 1}})
            paths.append(path)
    if specs:
        kaleido.write_fig_from_object_sync(specs, kopts={"mathjax": False})
    return paths


def export(result: PlaygroundResult, out_dir, formats=("csv", "json", "png", "svg"),
           scale: int = PNG_SCALE) -> list[Path]:
    """Write the requested files for ``result`` into ``out_dir`` (created if needed); return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tag = file_tag(result)
    written = []
    if "csv" in formats:
        for name in MATRIX_NAMES:
            path = out / f"{name}--{tag}.csv"
            path.write_text(matrix_csv(result, name), encoding="utf-8")
            written.append(path)
    if "json" in formats:
        path = out / f"state--{tag}.json"
        path.write_text(to_json(result), encoding="utf-8")
        written.append(path)
    images = tuple(f for f in ("png", "svg") if f in formats)
    if images:
        written += write_figures(build_figures(result), out, images, scale, tag)
    return written


# --- command line ----------------------------------------------------------------------------------------

FORMATS = ("csv", "json", "png", "svg")
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m maskattn.export",
        description="Write the Playground's figures (PNG, SVG), a CSV per matrix and a JSON of the state. "
                    "Start from a preset or a shared link's query string; explicit options override both.")
    p.add_argument("--list-presets", action="store_true", help="print the presets and exit")
    p.add_argument("--preset", help="start from this preset (see --list-presets)")
    p.add_argument("--url", help="start from a shared link or its query string, e.g. 'causal=1&dtype=float16'")
    p.add_argument("--out", help="directory to write into (created if needed)")
    p.add_argument("--formats", default=",".join(FORMATS),
                   help=f"comma-separated subset of {','.join(FORMATS)} (default: all)")
    p.add_argument("--png-scale", type=int, default=PNG_SCALE,
                   help=f"PNG pixels per layout pixel (default {PNG_SCALE})")
    for name, about in controls(Inputs).items():            # every control says its own flag and help
        if about.cli == "":
            continue
        flag = about.cli or "--" + name.replace("_", "-")
        if isinstance(getattr(Inputs, name), bool):
            p.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, help=about.help)
        else:
            p.add_argument(flag, dest=name, help=about.help)
    p.add_argument("--constant", help="mask constant: a menu name (" + ", ".join(CONSTANT_PRESETS)
                   + ") or any number such as -3e4")
    return p


def _glue_negative_values(argv: list[str]) -> list[str]:
    """``--constant -1e9`` → ``--constant=-1e9``: argparse would read ``-1e9`` as an option."""
    takes_value = {"--constant", "--url", "--text", "--pad"}
    out, i = [], 0
    while i < len(argv):
        if argv[i] in takes_value and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def query_from_url(url: str) -> dict[str, list[str]]:
    """The parameters of a shared link, or of its bare query string.

    >>> query_from_url("http://host:8501/playground?causal=1&dtype=float16&tokens=a%20b")
    {'causal': ['1'], 'dtype': ['float16'], 'tokens': ['a b']}
    >>> query_from_url("?row=2")
    {'row': ['2']}
    """
    query = urlsplit(url).query if "?" in url or "://" in url else url
    return parse_qs(query, keep_blank_values=True)


def inputs_from_args(args: argparse.Namespace) -> Inputs:
    """Preset, then link, then explicit options, all read through the URL codec (refusals are errors)."""
    params: dict = {}
    if args.preset:
        params.update(to_query_params(get_preset(args.preset).inputs))
    if args.url:
        params.update(query_from_url(args.url))
    for f in fields(Inputs):
        value = getattr(args, f.name, None)
        if value is None:
            continue
        params[INPUT_URL_KEYS[f.name]] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    if args.constant is not None:
        constant = args.constant.strip().replace("−", "-")
        if constant in CONSTANT_PRESETS and constant != "custom":
            params[INPUT_URL_KEYS["constant"]] = constant
        else:
            params[INPUT_URL_KEYS["constant"]] = "custom"
            params[INPUT_URL_KEYS["custom_constant"]] = constant
    inputs, _, notices = from_query_params(params)
    inputs, past_the_batch = sequence_in_batch(inputs)
    if notices + past_the_batch:
        raise MaskAttnError(" ".join(notices + past_the_batch))
    return inputs


def _list_presets() -> str:
    width = max(len(p.slug) for p in PRESETS)
    return "\n".join(f"{p.slug:<{width}}  {p.title}" for p in PRESETS)


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(_glue_negative_values(list(sys.argv[1:] if argv is None else argv)))
    if args.list_presets:
        print(_list_presets())
        return 0
    if not args.out:
        parser.error("--out DIR is required (or --list-presets)")
    formats = tuple(f.strip().lower() for f in args.formats.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        parser.error(f"--formats takes a comma-separated subset of {','.join(FORMATS)}, got {args.formats!r}")
    try:
        result = compute(inputs_from_args(args))
    except MaskAttnError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for notice in result.notices:
        print(f"note: {notice}", file=sys.stderr)
    try:
        written = export(result, args.out, formats, args.png_scale)
    except Exception as err:  # kaleido / Chromium problems: say what to install, no traceback
        print(f"error: could not write the figures ({type(err).__name__}: {err}). Figures need kaleido>=1 "
              f"and Chromium (set BROWSER_PATH, e.g. {DEFAULT_BROWSER}); --formats csv,json skips them.",
              file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
