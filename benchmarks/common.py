"""Shared helpers for the benchmarks: a loopback Streamlit server, inputs of T tokens, stats.

Every benchmark talks to a loopback address only (127.0.0.1 unless a test asks for another) and runs bounded
loops.

>>> tokens_text(4)
'w0 w1 w2 w3'
>>> summary([3.0, 1.0, 2.0])["p50"]
2.0
"""

from __future__ import annotations

import os
from pathlib import Path
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
#: distinct words in generated inputs (repeats keep the vocabulary realistic)
VOCABULARY = 50
HEALTH_TIMEOUT_S = 60


def tokens_text(T: int) -> str:
    """One sequence of ``T`` whitespace tokens."""
    return " ".join(f"w{i % VOCABULARY}" for i in range(T))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(script: str = "app.py", port: int | None = None, extra_args=(),
                 env: dict | None = None, log_dir: Path | None = None,
                 address: str = "127.0.0.1") -> tuple[subprocess.Popen, int, float]:
    """``streamlit run script`` on loopback; returns (process, port, seconds until healthy).

    The one server start of the benchmarks, the browser tests and the screenshots. The server's
    output goes to a file (``proc.log_path``, in ``log_dir`` or a temporary folder): a pipe that
    nobody reads fills up and blocks the server mid-run.
    """
    port = port or free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
           "--server.address", address, "--server.port", str(port),
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false", *extra_args]
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="maskattn-server-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(log_dir / f"server-{port}.log", "wb") as log:       # the child keeps its own handle
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})
    proc.log_path = log.name
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early: {Path(proc.log_path).read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{server_url(port, address)}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return proc, port, time.perf_counter() - t0
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"streamlit did not become healthy within {HEALTH_TIMEOUT_S} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def server_url(port: int, address: str = "127.0.0.1") -> str:
    """The base URL of a server on a loopback ``address``."""
    return f"http://{address}:{port}"


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux /proc)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, all its threads, in seconds (Linux /proc)."""
    import os
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()          # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(values) -> dict[str, float]:
    v = np.asarray(list(values), dtype=np.float64)
    if v.size == 0:
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "max": float("nan"), "mean": float("nan")}
    return {"n": int(v.size), "p50": float(np.median(v)), "p95": float(np.percentile(v, 95)),
            "max": float(v.max()), "mean": float(v.mean())}


def machine() -> str:
    """nproc and CPU model, for the README's tables."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs, {model}, Python {platform.python_version()}, load average {load}"
