"""Helpers shared by the AppTest page tests: the app, a fresh run from URL parameters, charts.

Every page test takes ``AppTest`` from here, never from Streamlit directly (a test checks it):
Streamlit's script runner calls ``keras.backend.clear_session()`` after every app run whenever
``keras`` is imported (``script_runner._clean_problem_modules``). The app never uses Keras, but
the real-library tests import TensorFlow and Keras into the same process, after which every
AppTest run paid that clean-up and the page tests ran about ten times slower. The app uses
neither Keras nor matplotlib (the other module it resets), so the AppTests skip it; if Streamlit
moves the function, importing this module fails instead of silently slowing the suite again.
"""

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

if not callable(getattr(script_runner, "_clean_problem_modules", None)):
    raise RuntimeError("streamlit's script_runner._clean_problem_modules moved: find its Keras clean-up again "
                       "(tests/apptest_helpers.py), or the AppTests run ten times slower once TensorFlow is imported")
script_runner._clean_problem_modules = lambda: None      # the app imports neither Keras nor matplotlib

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 30


def fresh(**query) -> AppTest:
    """The app, not yet run, with ``query`` as its URL parameters."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def chart(at, title):
    """The Plotly spec of the chart titled ``title``."""
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if spec["layout"].get("title", {}).get("text") == title:
            return spec
    raise AssertionError(f"no chart titled {title!r}")


def decode(z):
    """A Plotly typed array back to NumPy."""
    shape = tuple(int(n) for n in str(z["shape"]).split(","))
    return np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape(shape)
