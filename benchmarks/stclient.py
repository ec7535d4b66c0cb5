"""A minimal Streamlit client that speaks the app's own websocket protocol.

It does what the browser does for a rerun and nothing more: open
``ws://127.0.0.1:PORT/_stcore/stream`` with the subprotocol ``streamlit``, send a
``BackMsg.rerun_script`` (query string, widget states, cached message hashes),
and read ``ForwardMsg``s until ``script_finished``. Widget ids are found by label
in the first run's ``delta.new_element``s, exactly as the frontend learns them.

Used by ``loadgen.py``, ``bench_rerun.py`` and ``bench_payload.py``. Loopback only.

>>> url_for(8701)
'ws://127.0.0.1:8701/_stcore/stream'
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import json
import time
from urllib.parse import urlencode

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
import websockets

#: the frontend keeps a cached message for this many script runs after its last use
CACHE_MAX_AGE_RUNS = 2
#: one rerun must finish within this (a bounded wait, never an endless loop)
RERUN_TIMEOUT_S = 60.0


def url_for(port: int) -> str:
    return f"ws://127.0.0.1:{port}/_stcore/stream"


@dataclass
class Widget:
    """A widget as the first run described it."""

    id: str
    kind: str                       # checkbox (also toggles), selectbox, text_area, ...
    label: str
    options: tuple[str, ...] = ()   # selectbox: the formatted option labels (the wire values)
    default: object = None


@dataclass
class RunResult:
    """What one rerun cost and sent."""

    seconds: float                  # BackMsg sent -> script_finished received
    bytes: int                      # websocket payload bytes received during the run
    messages: int
    status: str                     # the script_finished status name
    charts: list[dict] = field(default_factory=list)   # plotly specs received in full
    chart_refs: int = 0             # charts sent as a reference (cached in the "browser")
    exceptions: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)


class StreamlitSession:
    """One browser tab's worth of protocol: ``await s.connect(); await s.rerun(...)``."""

    def __init__(self, port: int, query: dict[str, str] | None = None, page: str = "",
                 decode_charts: bool = True):
        self.port = port
        self.decode_charts = decode_charts      # False: count charts, skip JSON (load tests)
        self.query_string = urlencode(query or {})
        self.page = page
        self.ws = None
        self.widgets: dict[str, Widget] = {}
        self.states: dict[str, WidgetState] = {}
        self._cache: dict[str, int] = {}     # message hash -> run index last seen
        self._runs = 0

    async def connect(self) -> RunResult:
        self.ws = await websockets.connect(url_for(self.port), subprotocols=["streamlit"],
                                           max_size=None, compression=None, open_timeout=30,
                                           ping_interval=None)
        return await self.rerun()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    # -- widgets ----------------------------------------------------------------------------
    def find(self, label_start: str, kind: str | None = None) -> Widget:
        for w in self.widgets.values():
            if w.label.startswith(label_start) and (kind is None or w.kind == kind):
                return w
        raise KeyError(f"no widget labelled {label_start!r}; have {[w.label for w in self.widgets.values()]}")

    def set_bool(self, widget: Widget, value: bool) -> None:
        self.states[widget.id] = WidgetState(id=widget.id, bool_value=value)

    def set_option(self, widget: Widget, option: str) -> None:
        if option not in widget.options:
            raise KeyError(f"{option!r} is not an option of {widget.label!r}: {widget.options}")
        self.states[widget.id] = WidgetState(id=widget.id, string_value=option)

    def set_string(self, widget: Widget, text: str) -> None:
        self.states[widget.id] = WidgetState(id=widget.id, string_value=text)

    # -- one rerun ----------------------------------------------------------------------------
    def _back_msg(self) -> bytes:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        cs.page_name = self.page
        cs.widget_states.widgets.extend(self.states.values())
        cs.cached_message_hashes.extend(sorted(self._cache))
        return msg.SerializeToString()

    async def rerun(self, timeout: float = RERUN_TIMEOUT_S) -> RunResult:
        self._runs += 1
        result = RunResult(0.0, 0, 0, "")
        t0 = time.perf_counter()
        await self.ws.send(self._back_msg())
        deadline = t0 + timeout
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout=max(0.01, deadline - time.perf_counter()))
            result.bytes += len(raw)
            result.messages += 1
            fmsg = ForwardMsg()
            fmsg.ParseFromString(raw)
            kind = fmsg.WhichOneof("type")
            if fmsg.metadata.cacheable and fmsg.hash:
                self._cache[fmsg.hash] = self._runs
            if kind == "ref_hash":
                self._cache[fmsg.ref_hash] = self._runs
                result.chart_refs += 1
            elif kind == "delta":
                self._read_delta(fmsg, result)
            elif kind == "script_finished":
                result.seconds = time.perf_counter() - t0
                result.status = ForwardMsg.ScriptFinishedStatus.Name(fmsg.script_finished)
                break
        # forget cached messages the frontend would have evicted
        self._cache = {h: run for h, run in self._cache.items() if self._runs - run < CACHE_MAX_AGE_RUNS}
        return result

    def _read_delta(self, fmsg: ForwardMsg, result: RunResult) -> None:
        if fmsg.delta.WhichOneof("type") != "new_element":
            return
        el = fmsg.delta.new_element
        kind = el.WhichOneof("type")
        if kind == "plotly_chart":
            result.charts.append(json.loads(el.plotly_chart.spec) if self.decode_charts else {})
        elif kind == "exception":
            result.exceptions.append(f"{el.exception.type}: {el.exception.message}")
        elif kind == "alert":
            result.alerts.append(el.alert.body)
        elif kind in ("checkbox", "selectbox", "text_area", "text_input", "radio", "select_slider",
                      "number_input", "slider", "button", "button_group"):
            proto = getattr(el, kind)
            options = tuple(getattr(proto, "options", ()) or ())
            if kind == "button_group":                  # st.segmented_control / st.pills: options are messages
                options = tuple(option.content for option in options)
            self.widgets[proto.id] = Widget(proto.id, kind, proto.label, options,
                                            getattr(proto, "default", None))
            state = _wire_state(kind, proto, options)
            # like the frontend: a widget keeps its value unless the server sets a new one
            if state is not None and (proto.id not in self.states or getattr(proto, "set_value", False)):
                self.states[proto.id] = state


def _wire_state(kind: str, proto, options: tuple[str, ...]) -> WidgetState | None:
    """The value the frontend would send back for a freshly drawn widget."""
    set_value = getattr(proto, "set_value", False)
    if kind == "checkbox":
        return WidgetState(id=proto.id, bool_value=proto.value if set_value else proto.default)
    if kind in ("text_area", "text_input"):
        return WidgetState(id=proto.id, string_value=proto.value if set_value else proto.default)
    if kind in ("selectbox", "radio"):
        if set_value:
            return WidgetState(id=proto.id, string_value=proto.raw_value)
        has_default = proto.HasField("default") if kind == "radio" else True
        if options and has_default:
            return WidgetState(id=proto.id, string_value=options[proto.default])
        return None
    if kind == "button_group":                          # the chosen options' strings, as the frontend sends
        state = WidgetState(id=proto.id)
        state.string_array_value.data.extend(list(proto.raw_values) if set_value
                                             else [options[int(i)] for i in proto.default])
        return state
    if kind == "number_input":
        return WidgetState(id=proto.id, double_value=proto.value if set_value else proto.default)
    if kind == "slider":
        values = list(proto.value if set_value else proto.default)
        state = WidgetState(id=proto.id)
        if options:     # select_slider: the formatted options (raw_value when the server set them)
            chosen = list(proto.raw_value) or [options[int(v)] for v in values]
            state.string_array_value.data.extend(chosen)
        else:
            state.double_array_value.data.extend(values)
        return state
    return None
