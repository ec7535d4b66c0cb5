"""Classroom load: N simulated students on one server, over Streamlit's own websocket protocol.

Each user opens a session (``ws://127.0.0.1:PORT/_stcore/stream``, subprotocol
``streamlit``, ``BackMsg``/``ForwardMsg`` from ``streamlit.proto`` — see stclient.py)
with the same T-token input in the URL, then, for a bounded number of steps, waits a
think time of 0.5–1 s and changes one control (a mask toggle, scaling, positional
encoding or the dtype), timing each rerun from the BackMsg to ``script_finished``.
Users arrive spread over the ramp time, like a class opening a shared link.

Reported: rerun latency p50 / p95 / max, reruns per second, errors (exceptions on the
page, unsuccessful runs, protocol errors), disconnects, and the server's resident
memory before and after (RSS growth). Loopback only; every loop is bounded.

Reported beside them: the server's CPU time per rerun (user + system, every thread, from /proc, over the
measured run), the measure that says whether one process keeps up with a class.

Run (starts its own server):   python benchmarks/loadgen.py --users 60 --tokens 16 --steps 20
Another page:                  python benchmarks/loadgen.py --page proof ...   (lab, model, … : its URL path)
Two server processes:          python benchmarks/loadgen.py --servers 2 ...   (users spread, sticky)
The framework floor:           python benchmarks/loadgen.py --app benchmarks/floor_load_app.py ...
Against a running server:      python benchmarks/loadgen.py --port 8501 --pid <server pid> ...
Targets (2 cores, issue 22): 60 users at T = 16: p95 ≤ 1.5× and CPU per run ≤ 1.3× the floor's
(floor_load_app.py, measured in the same session), zero errors and disconnects; 150 users: p95 ≤ 1 s;
memory growth over 2,000 reruns ≤ 100 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import cpu_seconds, machine, rss_mb, start_server, stop_server, summary, tokens_text  # noqa: E402
from stclient import StreamlitSession  # noqa: E402
import websockets  # noqa: E402

TOGGLES = ("Causal", "Padding mask", "Scale logits", "Add positional encoding")
DTYPES = ("float32", "float16", "bfloat16", "float64")
THINK_S = (0.5, 1.0)


async def user(uid: int, port: int, T: int, steps: int, start_delay: float, stats: dict, seed: int,
               page: str = "", think: tuple[float, float] = THINK_S) -> None:
    rng = random.Random(seed * 100_003 + uid)
    await asyncio.sleep(start_delay)
    session = StreamlitSession(port, {"tokens": tokens_text(T)}, page=page, decode_charts=False)
    try:
        first = await session.connect()
        stats["connect"].append(first.seconds * 1000)
        _check(first, stats)
        toggles = [session.find(label) for label in TOGGLES]
        dtype = session.find("Number type")
        values = {w.id: session.states[w.id].bool_value for w in toggles}
        for _ in range(steps):
            await asyncio.sleep(rng.uniform(*think))
            if rng.random() < 0.8:
                w = rng.choice(toggles)
                values[w.id] = not values[w.id]
                session.set_bool(w, values[w.id])
            else:
                session.set_option(dtype, rng.choice(DTYPES))
            result = await session.rerun()
            stats["rerun"].append(result.seconds * 1000)
            stats["bytes"] += result.bytes
            _check(result, stats)
    except (websockets.ConnectionClosed, ConnectionError, OSError) as err:
        stats["disconnects"] += 1
        stats["messages"].append(f"user {uid}: disconnected: {err!r}"[:200])
    except (asyncio.TimeoutError, KeyError, RuntimeError) as err:
        stats["errors"] += 1
        stats["messages"].append(f"user {uid}: {err!r}"[:200])
    finally:
        try:
            await session.close()
        except Exception:  # noqa: BLE001 - closing an already broken socket
            pass


def _check(result, stats: dict) -> None:
    if result.exceptions or result.status != "FINISHED_SUCCESSFULLY":
        stats["errors"] += 1
        stats["messages"].append(f"{result.status}: {result.exceptions}"[:200])


def total_rss(pids) -> float:
    """Resident memory of all server processes together, MB."""
    return sum(rss_mb(pid) for pid in pids) if pids else float("nan")


async def run(ports: list[int], users: int, T: int, steps: int, ramp: float, seed: int, pids: list[int],
              rss_every: float = 1.0, page: str = "", think: tuple[float, float] = THINK_S) -> dict:
    """Users arrive over ``ramp`` seconds; user u talks to ``ports[u % len(ports)]`` for its whole
    session, as a load balancer with sticky websocket sessions would place it."""
    stats = {"connect": [], "rerun": [], "errors": 0, "disconnects": 0, "bytes": 0, "messages": [],
             "rss": []}
    rss_before = total_rss(pids)
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    done = asyncio.Event()

    async def sample_rss():
        while not done.is_set() and pids:
            stats["rss"].append(total_rss(pids))
            try:
                await asyncio.wait_for(done.wait(), timeout=rss_every)
            except asyncio.TimeoutError:
                pass

    sampler = asyncio.create_task(sample_rss())
    t0 = time.perf_counter()
    await asyncio.gather(*(user(u, ports[u % len(ports)], T, steps, ramp * u / max(users, 1), stats, seed, page,
                                think) for u in range(users)))
    wall = time.perf_counter() - t0
    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    done.set()
    await sampler
    await asyncio.sleep(1.0)
    rss_after = total_rss(pids)
    stats.update(wall=wall, cpu=cpu if pids else float("nan"), rss_before=rss_before, rss_after=rss_after,
                 rss_peak=max(stats["rss"], default=float("nan")))
    return stats


def report(args, stats: dict) -> dict:
    r, c = summary(stats["rerun"]), summary(stats["connect"])
    runs = r["n"] + len(stats["connect"])                 # every script run the server did, first loads included
    row = {"app": Path(args.app).stem + (f"/{args.page}" if args.page else ""), "think_s": "–".join(map(str, args.think)),
           "servers": 1 if args.port else args.servers, "users": args.users,
           "T": args.tokens, "steps": args.steps, "reruns": r["n"],
           "p50_ms": round(r["p50"], 1), "p95_ms": round(r["p95"], 1), "max_ms": round(r["max"], 1),
           "first_load_p95_ms": round(c["p95"], 1),
           "reruns_per_s": round(r["n"] / stats["wall"], 1),
           "cpu_ms_per_run": round(1000 * stats["cpu"] / max(runs, 1), 1), "errors": stats["errors"],
           "disconnects": stats["disconnects"], "kb_per_rerun": round(stats["bytes"] / max(r["n"], 1) / 1024, 1),
           "rss_before_mb": round(stats["rss_before"], 1), "rss_after_mb": round(stats["rss_after"], 1),
           "rss_peak_mb": round(stats["rss_peak"], 1),
           "rss_growth_mb": round(stats["rss_after"] - stats["rss_before"], 1)}
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--tokens", type=int, default=16, help="T: tokens in the (single) sequence")
    parser.add_argument("--steps", type=int, default=20, help="control changes per user (bounded)")
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds over which users arrive")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, help="use a running server on 127.0.0.1:PORT")
    parser.add_argument("--pid", type=int, help="that server's process id (for RSS)")
    parser.add_argument("--servers", type=int, default=1,
                        help="start this many server processes and spread the users over them (sticky)")
    parser.add_argument("--app", default="app.py",
                        help="the script to serve, e.g. benchmarks/floor_load_app.py (the framework floor)")
    parser.add_argument("--warmup", type=int, default=1, help="users x steps run first, not reported")
    parser.add_argument("--think", type=float, nargs=2, default=THINK_S, metavar=("MIN", "MAX"),
                        help="seconds a pupil thinks between two clicks (default 0.5 1.0)")
    parser.add_argument("--page", default="", help="the page's URL path (proof, lab, model, …); default the Playground")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    args = parser.parse_args(argv)

    procs = []
    if args.port is not None:
        ports, pids = [args.port], [args.pid] if args.pid else []
    else:
        procs = [start_server(args.app)[:2] for _ in range(args.servers)]
        ports, pids = [port for _, port in procs], [proc.pid for proc, _ in procs]
    try:
        if args.warmup:     # fill caches and imports, as a server that has run a while would be
            asyncio.run(run(ports, min(4 * len(ports), args.users), args.tokens, 8, 0.5, args.seed + 1, [],
                            page=args.page))
        stats = asyncio.run(run(ports, args.users, args.tokens, args.steps, args.ramp, args.seed, pids,
                                page=args.page, think=tuple(args.think)))
    finally:
        for proc, _ in procs:
            stop_server(proc)
    row = report(args, stats)
    if args.json:
        print(json.dumps(row))
    else:
        print(f"# loadgen — {machine()}")
        print("# command: python benchmarks/loadgen.py " + " ".join(argv if argv is not None else sys.argv[1:]))
        print("| " + " | ".join(row) + " |")
        print("|" + "---:|" * len(row))
        print("| " + " | ".join(str(v) for v in row.values()) + " |")
    for msg in stats["messages"][:10]:
        print("  !", msg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
