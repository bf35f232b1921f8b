"""A bounded load test of ``trialmatch serve`` on loopback: screening throughput with 8 clients, ``/health``
latency while they screen, and the server's memory while anonymous clients send large bodies.

Run: ``.venv/bin/python benchmarks/service_load.py [--src DIR] [--workers N] [--seconds S]``. ``--src`` serves
another checkout's ``src`` (for example an older commit exported with ``git archive``), so two versions are
measured side by side on the same machine; ``--workers`` is passed to ``serve`` only when given (older
versions have no such option). Prints one JSON object of figures. Nothing here is a test: the figures depend
on the machine, so only ratios measured side by side mean anything.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = sorted((ROOT / "src/trialmatch/data/patients/examples").glob("ex-*.json"))[0].read_bytes()
ANONYMOUS_CLIENTS = 40
ANONYMOUS_BODY = 10 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    src: Path, port: int, token: str, workers: int | None, library: Path, log: Path | None
) -> subprocess.Popen[bytes]:
    """``trialmatch serve`` from ``src`` on ``port``; returns once ``/health`` answers."""
    command = [sys.executable, "-c", "from trialmatch.cli import app; app()", "serve", "--port", str(port)]
    command += ["--library", str(library), *(["--workers", str(workers)] if workers is not None else [])]
    env = {**os.environ, "PYTHONPATH": str(src), "TRIALMATCH_API_TOKEN": token}
    output = log.open("wb") if log else subprocess.DEVNULL
    server = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if get(port, "/health")[0] == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def get(port: int, path: str) -> tuple[int, float]:
    """Status and seconds of one GET."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        connection.close()


def screen_loop(port: int, token: str, stop: float, done: list[int]) -> None:
    """POST the example bundle until ``stop``, counting answers of 200."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while time.monotonic() < stop:
        connection.request("POST", "/screen?as_of=2026-11-21", body=EXAMPLE, headers=headers)
        response = connection.getresponse()
        response.read()
        done.append(response.status)
    connection.close()


def health_loop(port: int, stop: float, latencies: list[float]) -> None:
    """GET /health every 50 ms until ``stop``."""
    while time.monotonic() < stop:
        latencies.append(get(port, "/health")[1])
        time.sleep(0.05)


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children, in KiB (from /proc)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("Pid", "0")) == pid or int(fields.get("PPid", "0").strip() or 0) == pid:
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


def throughput(port: int, token: str, clients: int, seconds: float) -> dict[str, float]:
    """Requests per second with ``clients`` screening at once, and /health latency meanwhile."""
    stop = time.monotonic() + seconds
    done: list[int] = []
    latencies: list[float] = []
    threads = [threading.Thread(target=screen_loop, args=(port, token, stop, done)) for _ in range(clients)]
    threads.append(threading.Thread(target=health_loop, args=(port, stop, latencies)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ok = sum(1 for status in done if status == 200)
    return {
        "screenings_per_second": round(ok / seconds, 2),
        "failed_requests": {str(s): done.count(s) for s in set(done) if s != 200},
        "health_ms_median": round(statistics.median(latencies) * 1000, 1),
        "health_ms_p99": round(sorted(latencies)[int(len(latencies) * 0.99)] * 1000, 1),
        "health_ms_max": round(max(latencies) * 1000, 1),
    }


def send_anonymous(port: int) -> None:
    """One client without a token sending a 10 MB body (the server may cut it off early)."""
    chunk = b"x" * (1024 * 1024)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        head = f"POST /screen HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {ANONYMOUS_BODY}"
        client.sendall(head.encode() + b"\r\n\r\n")
        try:
            for _ in range(ANONYMOUS_BODY // len(chunk)):
                client.sendall(chunk)
            client.recv(1024)
        except OSError:
            pass  # the server answered 401 and closed the connection


def anonymous_bodies(port: int, server: int) -> dict[str, int]:
    """Server memory before, and at its highest while, ``ANONYMOUS_CLIENTS`` clients without a token each send
    a 10 MB body at once."""
    before = rss_kib(server)
    threads = [threading.Thread(target=send_anonymous, args=(port,)) for _ in range(ANONYMOUS_CLIENTS)]
    for thread in threads:
        thread.start()
    highest = before
    while any(thread.is_alive() for thread in threads):
        highest = max(highest, rss_kib(server))
        time.sleep(0.05)
    return {"rss_mib_before": before // 1024, "rss_mib_highest": highest // 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="The src folder of the version to serve.")
    parser.add_argument("--workers", type=int, default=None, help="serve --workers (left out when not given).")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--log", type=Path, default=None, help="Keep the server's log in this file.")
    args = parser.parse_args()
    token, port = secrets.token_urlsafe(24), free_port()
    with tempfile.TemporaryDirectory() as library:
        server = start_server(args.src.resolve(), port, token, args.workers, Path(library), args.log)
        try:
            throughput(port, token, args.clients, 3.0)  # warm-up
            figures = {"src": str(args.src), "workers": args.workers, "clients": args.clients}
            figures |= throughput(port, token, args.clients, args.seconds)
            figures |= anonymous_bodies(port, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
