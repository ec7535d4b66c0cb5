"""export: CSV per matrix, JSON of the state, the command line, and PNG/SVG through kaleido."""

import json
import math
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from maskattn import MaskAttnError, export
from maskattn.export import (CORNER, MATRIX_NAMES, OUTPUT_CORNER, file_tag, inputs_from_json, main, matrix_csv,
                             read_matrix_csv, to_json, to_json_dict)
from maskattn.numerics import DTYPE_NAMES, cast
from maskattn.pipeline import compute
from maskattn.presets import PRESETS, get_preset
from maskattn.state import Inputs, to_query_params
from maskattn.text import spell

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def core_matrix(result, name):
    s = result.steps
    return {"mask": result.mask, "logits": s.logits, "mask-term": s.mask_term, "masked-logits": s.masked_logits,
            "weights": s.weights, "output": s.output}[name]


def same_values(read, computed, dtype):
    """Values read back from text, rounded to dtype, equal the computed ones bit for bit (NaN = NaN)."""
    back = cast(read, dtype).astype(np.float64)
    want = np.asarray(computed).astype(np.float64)
    np.testing.assert_array_equal(back, want)


# --- numbers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPE_NAMES)
@given(bits=st.integers(0, 2**64 - 1))
@hsettings(max_examples=300, deadline=None)
def test_spelling_round_trips_every_value_of_every_dtype(dtype, bits):
    """CSV and JSON spell numbers with text.spell: what is written reads back bit for bit."""
    width = {"float16": 16, "bfloat16": 16, "float32": 32, "float64": 64}[dtype]
    raw = np.array([bits % 2**width], dtype=f"uint{width}")
    x = raw.view(np.dtype(ml_dtypes.bfloat16) if dtype == "bfloat16" else np.dtype(dtype))[0]
    text = spell(x, dtype)
    back = cast(float(text), dtype)
    if np.isnan(float(x)):
        assert text == "NaN"
    else:
        assert back.tobytes() == np.asarray(x).tobytes() or (float(x) == 0 and float(back) == 0)
        assert len(text) <= max(len(repr(float(x))), len(str(int(float(x)))) if float(x).is_integer() else 0)


def test_csv_spells_minus_1e9_the_way_the_screen_does():
    """One spelling of -1e9: the CSV cell, the heatmap cell and the hover all read -1e9."""
    result = compute(Inputs(text="a b <pad>"))
    _, _, values = read_matrix_csv(matrix_csv(result, "masked-logits"))
    assert matrix_csv(result, "mask-term").splitlines()[1].split(",")[1:] == ["-0", "-0", "-1e9"]
    assert values[0, 2] == -1e9


# --- CSV -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPE_NAMES)
@pytest.mark.parametrize("name", MATRIX_NAMES)
def test_csv_has_labels_and_the_cores_values(name, dtype):
    result = compute(Inputs(causal=True, dtype=dtype, text="the cat sat\nthe dog <pad>"))
    columns, rows, values = read_matrix_csv(matrix_csv(result, name))
    header = matrix_csv(result, name).splitlines()[0].split(",")
    assert rows == result.labels == ["0·the", "1·cat", "2·sat"]
    if name == "output":
        assert header[0] == OUTPUT_CORNER and columns == [f"v{i}" for i in range(16)]
    else:
        assert header[0] == CORNER and columns == result.labels
    same_values(values, core_matrix(result, name), "float32" if name == "mask" else dtype)


def test_mask_csv_is_the_tutorial_mask():
    result = compute(get_preset("tutorial").inputs)      # tokens 7 6 0 0 1, pad id 0
    text = matrix_csv(result, "mask")
    assert text.splitlines() == ["query \\ key,0·7,1·6,2·0,3·0,4·1"] + \
        [f"{label},0,0,1,1,0" for label in ("0·7", "1·6", "2·0", "3·0", "4·1")]


def test_csv_writes_nan_and_inf_as_words():
    result = compute(get_preset("float16-nan").inputs)
    weights = matrix_csv(result, "weights").splitlines()
    assert all(line.split(",")[1:] == ["NaN"] * 6 for line in weights[1:])
    masked = read_matrix_csv(matrix_csv(result, "masked-logits"))[2]
    blocked = result.mask == 1
    assert np.isnan(masked[~blocked]).all()                # 0 x -inf poisons every unmasked cell
    assert np.all(masked[blocked] == -np.inf)              # logit + 1 x -inf
    fill = compute(get_preset("float16-fill").inputs)
    assert "-inf" in matrix_csv(fill, "masked-logits").splitlines()[1].split(",")


def test_csv_quotes_awkward_tokens():
    result = compute(Inputs(text='a,b "q" =1+1 <b>x</b>', padding=False))
    columns, rows, _ = read_matrix_csv(matrix_csv(result, "weights"))
    assert columns == rows == ['0·a,b', '1·"q"', '2·=1+1', '3·<b>x</b>']
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in columns)


def test_unknown_matrix_is_refused():
    with pytest.raises(MaskAttnError, match="'attention'"):
        matrix_csv(compute(Inputs()), "attention")


# --- JSON ----------------------------------------------------------------------------------------------

def strict_loads(text):
    def refuse(name):
        raise AssertionError(f"bare {name} in JSON")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("preset", PRESETS, ids=[p.slug for p in PRESETS])
def test_json_is_strict_and_holds_the_cores_numbers(preset):
    result = compute(preset.inputs)
    data = strict_loads(to_json(result))
    dtype = result.steps.dtype
    assert data["format"] == "maskattn.export" and data["dtype"] == dtype
    assert data["labels"] == result.labels and data["query"] == to_query_params(preset.inputs)
    for key, name in [("logits", "logits"), ("masked_logits", "masked-logits"), ("weights", "weights"),
                      ("output", "output")]:
        read = np.array([[float(v) for v in row] for row in data["matrices"][key]])
        same_values(read, core_matrix(result, name), dtype)
    assert data["matrices"]["mask"] == result.mask.astype(int).tolist()
    assert inputs_from_json(to_json(result)) == preset.inputs
    assert len(data["rows"]) == len(result.labels) and data["verdicts"]


def test_json_encodes_non_finite_numbers_as_strings():
    data = to_json_dict(compute(get_preset("float16-nan").inputs))
    assert data["mask_value"] == {"requested": -1e9, "in_dtype": "-inf"}
    assert data["matrices"]["weights"][0] == ["NaN"] * 6
    assert data["rows"][0]["row sum"] == "NaN" and data["rows"][0]["NaN"] is True
    custom = to_json_dict(compute(Inputs(constant="custom", custom_constant=-math.inf)))
    assert custom["inputs"]["custom_constant"] == "-inf"


# --- command line --------------------------------------------------------------------------------------

def read_state(out: Path) -> dict:
    (path,) = out.glob("state--*.json")
    return strict_loads(path.read_text(encoding="utf-8"))


def test_list_presets_prints_every_slug(capsys):
    assert main(["--list-presets"]) == 0
    out = capsys.readouterr().out
    assert all(p.slug in out and p.title in out for p in PRESETS)


def test_cli_writes_csv_and_json_for_a_preset(tmp_path, capsys):
    assert main(["--preset", "decoder-mask", "--out", str(tmp_path), "--formats", "csv,json"]) == 0
    written = {Path(line).name for line in capsys.readouterr().out.split()}
    result = compute(get_preset("decoder-mask").inputs)
    tag = file_tag(result)
    assert written == {f"{n}--{tag}.csv" for n in MATRIX_NAMES} | {f"state--{tag}.json"}
    for name in MATRIX_NAMES:
        _, rows, values = read_matrix_csv((tmp_path / f"{name}--{tag}.csv").read_text(encoding="utf-8"))
        assert rows == result.labels
        same_values(values, core_matrix(result, name), "float32")
    assert read_state(tmp_path)["inputs"]["causal"] is True


def test_two_cases_never_overwrite_each_other(tmp_path):
    """File names carry the whole state: any two different inputs get different names."""
    cases = [Inputs(), Inputs(causal=True), Inputs(constant="-1e4"), Inputs(dtype="float16"), Inputs(seed=1),
             Inputs(text="the cat sat\nthe dog chased the cat home\nbirds fly"), Inputs(sequence=1),
             Inputs(method="fill"), Inputs(d_model=32), Inputs(scale=False), Inputs(positional=False)]
    tags = {file_tag(compute(c)) for c in cases}
    assert len(tags) == len(cases)
    for case in cases[:3]:
        assert main(["--url", "&".join(f"{k}={v}" for k, v in to_query_params(case).items()) or "?",
                     "--out", str(tmp_path), "--formats", "csv"]) == 0
    assert len(list(tmp_path.glob("weights--*.csv"))) == 3


def test_cli_reads_a_shared_link_and_explicit_options_win(tmp_path):
    link = "http://127.0.0.1:8501/playground?causal=1&dtype=float16&row=2&tokens=a%20b%20c"
    assert main(["--url", link, "--dtype", "bfloat16", "--constant", "-3e4", "--no-padding",
                 "--out", str(tmp_path), "--formats", "json"]) == 0
    s = read_state(tmp_path)["inputs"]
    assert (s["causal"], s["text"], s["dtype"], s["padding"]) == (True, "a b c", "bfloat16", False)
    assert (s["constant"], s["custom_constant"]) == ("custom", -30000.0)   # "-3e4" given as its own argument


def test_cli_menu_constant_and_bare_query_string(tmp_path):
    assert main(["--url", "?qpad=1&seq=1", "--constant", "-inf", "--method", "safe",
                 "--out", str(tmp_path), "--formats", "json"]) == 0
    s = read_state(tmp_path)["inputs"]
    assert (s["mask_queries"], s["sequence"], s["constant"], s["method"]) == (True, 1, "-inf", "safe")


@pytest.mark.parametrize("argv, message", [
    (["--dtype", "float8"], "dtype='float8'"),
    (["--preset", "nope"], "unknown preset 'nope'"),
    (["--constant", "nan"], "value='nan'"),
    (["--url", "seed=-1"], "seed='-1'"),
    (["--text", "   "], "tokens='   '"),
])
def test_cli_refuses_bad_values_naming_them(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_cli_needs_an_output_directory_and_known_formats(tmp_path):
    with pytest.raises(SystemExit):
        main(["--preset", "tutorial"])
    with pytest.raises(SystemExit):
        main(["--preset", "tutorial", "--out", str(tmp_path), "--formats", "gif"])


# --- the same figures as the Playground -----------------------------------------------------------------

@pytest.mark.parametrize("slug", ["tutorial", "negative-logits", "float16-nan"])
def test_figures_are_the_playgrounds_own_laid_out_for_publication(slug):
    """The exported figures draw the Playground's numbers with the same titles, at a fixed cell size."""
    from maskattn import figures
    preset = get_preset(slug)
    result = compute(preset.inputs)
    screen = figures.playground_figures(result)
    mine = export.build_figures(result)
    assert set(mine) == set(screen) == set(MATRIX_NAMES)
    for name, fig in mine.items():
        assert fig.layout.title.text == screen[name].layout.title.text
        whole = name != "logits"                           # the raw logits do not depend on the mask
        assert fig.layout.title.subtitle.text == figures.state_subtitle(result, masks=whole, constant=whole)
        np.testing.assert_array_equal(np.asarray(fig.data[0].z, dtype=float), np.asarray(screen[name].data[0].z,
                                                                                          dtype=float))
        geometry_cell = (fig.layout.width - fig.layout.margin.l - fig.layout.margin.r) / len(result.labels)
        if name != "output":
            assert geometry_cell == pytest.approx(figures.PUBLICATION_CELL)


# --- PNG and SVG through kaleido + Chromium ---------------------------------------------------------------

def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
def test_cli_writes_png_and_svg_figures(tmp_path):
    if not Path(export.DEFAULT_BROWSER).exists():
        pytest.skip("Chromium is not installed")
    assert main(["--preset", "tutorial", "--out", str(tmp_path), "--formats", "png,svg"]) == 0
    result = compute(get_preset("tutorial").inputs)
    figs, tag = export.build_figures(result), file_tag(result)
    for name, fig in figs.items():
        data = (tmp_path / f"{name}--{tag}.png").read_bytes()
        width, height = export.figure_size(fig)
        assert png_size(data) == (width * export.PNG_SCALE, height * export.PNG_SCALE)
        assert 10_000 < len(data) < 2_000_000
        root = ET.parse(tmp_path / f"{name}--{tag}.svg").getroot()
        assert root.tag.endswith("svg")
        assert (int(float(root.get("width"))), int(float(root.get("height")))) == (width, height)
        texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
        assert fig.layout.title.text in texts and "0·7" in texts


def test_the_new_masks_are_named_in_file_names_and_set_by_cli_options(tmp_path, capsys):
    cases = [Inputs(padding_side="left"), Inputs(window=3), Inputs(window=3, window_rule="distance"),
             Inputs(prefix_length=2), Inputs(packed=True), Inputs(packed=True, document_mask=False),
             Inputs(text="a b c", drawn="001-100-010")]
    tags = [file_tag(compute(c)) for c in cases]
    assert len(set(tags)) == len(cases)
    for tag, word in zip(tags, ["padding-left", "window-3", "window-3-le", "prefix-2", "packed-docs",
                                "packed-nodocs", "drawn-3x3"]):
        assert f"--{word}--" in tag or f"+{word}--" in tag, (word, tag)
    assert main(["--padding-side", "left", "--causal", "--window", "2", "--window-rule", "distance", "--prefix", "1",
                 "--packed", "--no-document-mask", "--out", str(tmp_path), "--formats", "json"]) == 0
    inputs = read_state(tmp_path)["inputs"]
    assert (inputs["padding_side"], inputs["window"], inputs["window_rule"], inputs["prefix_length"],
            inputs["packed"], inputs["document_mask"]) == ("left", 2, "distance", 1, True, False)
    assert main(["--drawn", "0-1", "--out", str(tmp_path), "--formats", "csv"]) == 2     # refused, named
    assert "drawn='0-1'" in capsys.readouterr().err


#: a value other than the default for each field the command line sets, as typed on it
CLI_VALUES = {"text": "a b\nc <pad>", "pad_token": "[PAD]", "sequence": "1", "padding_side": "left", "window": "2",
              "window_rule": "distance", "prefix_length": "1", "drawn": "01-00", "method": "fill",
              "dtype": "bfloat16", "d_model": "8", "seed": "7", "qk_mode": "shared", "window_right": "1", "chunk": "3",
              "global_tokens": "0,5", "shared_prefix": "2", "completions": "3", "bias": "alibi", "bias_head": "2",
              "bias_matrix": "0,-1;-inf,0"}


def test_every_control_is_a_cli_option_that_sets_its_field():
    """The CLI is made from the Inputs' own Controls: every field with a flag sets that field, switches both ways."""
    from maskattn.state import controls
    parser = export._parser()
    flags = {a.dest: a.option_strings for a in parser._actions}
    for name, about in controls(Inputs).items():
        if about.cli == "":                                             # the constant: one --constant for both
            assert name in ("constant", "custom_constant")
            continue
        default = getattr(Inputs(), name)
        if isinstance(default, bool):
            flag = flags[name][0]
            args = parser.parse_args([flag if not default else "--no-" + flag[2:]])
            assert getattr(export.inputs_from_args(args), name) is (not default), name
        else:
            args = parser.parse_args([f"{flags[name][0]}={CLI_VALUES[name]}"])
            got = getattr(export.inputs_from_args(args), name)
            assert got != default and str(got) == CLI_VALUES[name], (name, got)
