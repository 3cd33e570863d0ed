"""HTTP API speed: ``GET /predictions?date=D`` under 50 closed-loop clients, dashboard ``/``.

The server is ``nbaprops serve`` started as a separate process on 127.0.0.1 and a free
port over a warehouse on which a daily run published its snapshot (``--db``). Without
``--db`` one is built in a temporary folder like the API tests' ``served`` fixture:
ingest the real data (NBAPROPS_DATA_DIR), backfill two fast systems over
2024-04-08..11, make them champion and challenger, run the daily job for 2024-04-12
(``--keep DIR`` keeps that build for later ``--db`` runs). Requests carry a bearer
token (a random one, so the token check is measured too).

- ``/predictions?date=D`` (default D: the latest predicted date): closed loop, each of
  ``--concurrency`` connections (50) sends its next request as soon as the previous
  answer arrives; warm-up, then ``--duration`` seconds. Floor: p95 <= 50 ms.
- dashboard home ``/``: one client, ``--home-requests`` sequential requests, then 10
  closed-loop clients. Floor: p95 <= 300 ms. "not available" while ``/`` is not 200.

Load generator: ``wrk`` (optional; Debian ``apt-get install -y wrk``) with a Lua
script reporting p50/p95/p99/max and req/s; without it, a Python asyncio + httpx
closed-loop generator (itself CPU-hungry: on a 2-core machine it competes with the
server, so its figures are pessimistic). The load generator runs on the same machine.

Run: python benchmarks/bench_api.py [--db PATH] [--date D] [--workers N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx

FLOOR_PREDICTIONS_P95_MS = 50.0
FLOOR_HOME_P95_MS = 300.0

WRK_LUA = """
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
local accept = os.getenv("BENCH_ACCEPT_ENCODING")
if accept and accept ~= "" then wrk.headers["Accept-Encoding"] = accept end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"bytes\\":%d,"
    .. "\\"p50_us\\":%d,\\"p95_us\\":%d,\\"p99_us\\":%d,\\"max_us\\":%d,"
    .. "\\"non_2xx\\":%d,\\"socket_errors\\":%d}\\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the warehouse --------------------------------------------------------------------


def build_warehouse(root: Path) -> Path:
    """Like tests/api/conftest.py's ``served``: ingest, backfill two systems, aliases,
    one daily run (which publishes the snapshot). Returns the warehouse path."""
    from nbaprops.core.settings import get_settings

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.api.served import build

    return build(root, get_settings().paths.data_dir, "bench-api", log).paths.db


# --- the server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(db: Path, token: str, workers: int) -> Iterator[str]:
    """``nbaprops serve`` in its own process group; stopped on the way out, always."""
    port = free_port()
    exe = Path(sys.executable).with_name("nbaprops")
    cmd = [str(exe), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    env = {**os.environ, "NBAPROPS_API_TOKEN": token}
    proc = subprocess.Popen(cmd, env=env, stdout=sys.stderr, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode}")
            try:
                r = httpx.get(f"{base}/health", headers=auth(token), timeout=5)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not answer /health within 120 s")
            time.sleep(0.2)
        log(f"server up on {base} (pid {proc.pid}, workers {workers})")
        yield base
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- load generators ------------------------------------------------------------------


def _summary(
    lat_s: list[float], elapsed: float, errors: int, nbytes: int, concurrency: int
) -> dict[str, Any]:
    ms = sorted(x * 1000 for x in lat_s)

    def pct(p: float) -> float | None:
        if not ms:
            return None
        return round(ms[min(len(ms) - 1, max(0, round(p / 100 * len(ms)) - 1))], 2)

    return {
        "concurrency": concurrency,
        "requests": len(ms),
        "seconds": round(elapsed, 2),
        "req_s": round(len(ms) / elapsed, 1) if elapsed else None,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(ms[-1], 2) if ms else None,
        "errors": errors,
        "mb_s": round(nbytes / elapsed / 1e6, 1) if elapsed else None,
    }


def run_wrk(
    url: str, token: str, concurrency: int, seconds: float, accept_encoding: str
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_LUA)
        script = f.name
    try:
        threads = max(1, min(2, concurrency))
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(concurrency),
                "-d",
                f"{seconds:g}s",
                "--timeout",
                "10s",
                "-s",
                script,
                url,
            ],
            env={**os.environ, "BENCH_TOKEN": token, "BENCH_ACCEPT_ENCODING": accept_encoding},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    elapsed = raw["duration_us"] / 1e6
    return {
        "concurrency": concurrency,
        "requests": raw["requests"],
        "seconds": round(elapsed, 2),
        "req_s": round(raw["requests"] / elapsed, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "errors": raw["non_2xx"] + raw["socket_errors"],
        "mb_s": round(raw["bytes"] / elapsed / 1e6, 1),
    }


async def _closed_loop(
    url: str, token: str, concurrency: int, seconds: float, accept_encoding: str
) -> dict[str, Any]:
    headers = auth(token)
    if accept_encoding:
        headers["Accept-Encoding"] = accept_encoding
    else:
        headers["Accept-Encoding"] = "identity"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    lat: list[float] = []
    errors = 0
    nbytes = 0
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def one_client() -> None:
            nonlocal errors, nbytes
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    r = await client.get(url)
                    ok = r.status_code == 200
                    nbytes += len(r.content)
                except httpx.HTTPError:
                    ok = False
                lat.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return _summary(lat, elapsed, errors, nbytes, concurrency)


def closed_loop(
    generator: str,
    url: str,
    token: str,
    concurrency: int,
    seconds: float,
    warmup: float,
    accept_encoding: str = "",
) -> dict[str, Any]:
    """Warm up for ``warmup`` seconds (discarded), then measure for ``seconds``."""
    if generator == "wrk":
        if warmup > 0:
            run_wrk(url, token, concurrency, warmup, accept_encoding)
        out = run_wrk(url, token, concurrency, seconds, accept_encoding)
    else:
        if warmup > 0:
            asyncio.run(_closed_loop(url, token, concurrency, warmup, accept_encoding))
        out = asyncio.run(_closed_loop(url, token, concurrency, seconds, accept_encoding))
    out["generator"] = generator
    return out


def sequential(url: str, token: str, n: int) -> dict[str, Any]:
    lat: list[float] = []
    errors = 0
    nbytes = 0
    with httpx.Client(headers=auth(token), timeout=30) as client:
        client.get(url)  # warm-up
        started = time.perf_counter()
        for _ in range(n):
            t = time.perf_counter()
            r = client.get(url)
            lat.append(time.perf_counter() - t)
            errors += r.status_code != 200
            nbytes += len(r.content)
        elapsed = time.perf_counter() - started
    out = _summary(lat, elapsed, errors, nbytes, 1)
    out["mean_ms"] = round(statistics.fmean(lat) * 1000, 2)
    out["generator"] = "httpx sequential"
    return out


# --- the run --------------------------------------------------------------------------


def verdict(result: dict[str, Any], floor_ms: float) -> str:
    ok = result["errors"] == 0 and result["p95_ms"] is not None and result["p95_ms"] <= floor_ms
    return "PASS" if ok else "FAIL"


def measure(db: Path, args: argparse.Namespace) -> dict[str, Any]:
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    token = secrets.token_urlsafe(24)
    out: dict[str, Any] = {"warehouse": db.name, "workers": args.workers, "generator": generator}
    with server(db, token, args.workers) as base:
        day = args.date
        if day is None:
            health = httpx.get(f"{base}/health", headers=auth(token), timeout=30).json()
            day = health["freshness"]["last_prediction_date"]
        url = f"{base}/predictions?date={day}"
        first = httpx.get(url, headers=auth(token), timeout=60)
        first.raise_for_status()
        out["date"] = str(day)
        out["rows"] = first.json()["n"]
        out["response_bytes"] = len(first.content)
        gz = httpx.get(url, headers={**auth(token), "Accept-Encoding": "gzip"}, timeout=60)
        out["gzip_served"] = gz.headers.get("content-encoding") == "gzip"
        log(f"/predictions?date={day}: {out['rows']} rows, {out['response_bytes']:,} bytes")
        runs = {"identity": ""}
        if args.gzip:
            runs["gzip"] = "gzip"
        out["predictions"] = {}
        for label, encoding in runs.items():
            log(f"load: /predictions ({label}), {args.concurrency} clients, {args.duration:g} s")
            res = closed_loop(
                generator, url, token, args.concurrency, args.duration, args.warmup, encoding
            )
            res["endpoint"] = f"/predictions?date={day}"
            res["accept_encoding"] = encoding or "(none)"
            res["floor_p95_ms"] = FLOOR_PREDICTIONS_P95_MS
            res["verdict"] = verdict(res, FLOOR_PREDICTIONS_P95_MS)
            out["predictions"][label] = res

        # the first request of a page after the server starts renders it (later ones,
        # until the next snapshot, are served from the cache): report those apart
        cold: dict[str, float] = {}
        for page in ("/", "/ui/track", "/ui/models", "/ui/health"):
            started = time.perf_counter()
            first = httpx.get(f"{base}{page}", headers=auth(token), timeout=60)
            if first.status_code == 200:
                cold[page] = (time.perf_counter() - started) * 1000
        out["cold_ms"] = cold
        home = httpx.get(f"{base}/", headers=auth(token), timeout=60)
        if home.status_code != 200:
            out["home"] = {"available": False, "status": home.status_code}
        else:
            log(f"load: / sequential x{args.home_requests}, then 10 clients")
            seq = sequential(f"{base}/", token, args.home_requests)
            conc = closed_loop(generator, f"{base}/", token, 10, args.home_duration, 1.0)
            for res in (seq, conc):
                res["endpoint"] = "/"
                res["floor_p95_ms"] = FLOOR_HOME_P95_MS
                res["verdict"] = verdict(res, FLOOR_HOME_P95_MS)
            out["home"] = {
                "available": True,
                "bytes": len(home.content),
                "sequential": seq,
                "concurrent": conc,
            }
    return out


def _line(res: dict[str, Any]) -> str:
    return (
        f"{res['endpoint']:<28} c={res['concurrency']:<3} n={res['requests']:<7} "
        f"{res['req_s']:>8.1f} req/s  p50 {res['p50_ms']:7.2f}  p95 {res['p95_ms']:7.2f}  "
        f"p99 {res['p99_ms']:7.2f}  max {res['max_ms']:7.2f} ms  errors {res['errors']}  "
        f"[{res['verdict']} p95 <= {res['floor_p95_ms']:g} ms]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="warehouse with a snapshot")
    parser.add_argument("--keep", type=Path, default=None, help="build the warehouse here")
    parser.add_argument("--date", type=date.fromisoformat, default=None)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds discarded")
    parser.add_argument("--home-requests", type=int, default=50)
    parser.add_argument("--home-duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1, help="nbaprops serve --workers")
    parser.add_argument("--gzip", action="store_true", help="also measure Accept-Encoding gzip")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.db is not None:
        out = measure(args.db, args)
    elif args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        out = measure(build_warehouse(args.keep), args)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out = measure(build_warehouse(Path(tmp)), args)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(
        f"warehouse {out['warehouse']}, date {out['date']}: {out['rows']} predictions, "
        f"{out['response_bytes']:,} bytes (gzip served: {out['gzip_served']}); "
        f"server workers {out['workers']}; load generator {out['generator']}"
    )
    if out["generator"] == "python":
        print("note: the Python generator saturates before the server does; prefer wrk")
    for label, res in out["predictions"].items():
        print(f"{_line(res)}  ({label})")
    home = out["home"]
    if not home["available"]:
        print(f"{'/':<28} not available (status {home['status']})")
    else:
        print(f"{_line(home['sequential'])}  (sequential, {home['bytes']:,} bytes)")
        print(_line(home["concurrent"]))
    for page, ms in out.get("cold_ms", {}).items():
        verdict_text = "PASS" if ms <= FLOOR_HOME_P95_MS else "FAIL"
        print(
            f"{page:<28} first render after start (not cached): {ms:8.1f} ms  "
            f"[{verdict_text} <= {FLOOR_HOME_P95_MS:g} ms]"
        )


if __name__ == "__main__":
    main()
