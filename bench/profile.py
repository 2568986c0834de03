"""Where a page's time goes: serve the app on a seeded database, load one page with wrk and sample it with py-spy.

    python -m bench.profile                                   # the queue page (state + department), SQLite, 10k
    python -m bench.profile --path "/dashboard?state=all&q=nino" --database postgres --seconds 20
    python -m bench.profile --path /apply --anonymous         # a page without the bench editor's session
    python -m bench.profile --factory bench.baseline_app:create_app --path /rows --anonymous   # B1's baseline

The app is served as `bench.run` serves it (uvicorn on core 0, wrk on core 1, the same seeded archives). The
profile is written under var/bench/profiles/ in speedscope's format (open it at https://www.speedscope.app or
with `speedscope FILE`; its flame graph is the "Left Heavy" view) and summed up here: the server's CPU time per
request, then the functions with the most samples of their own and with the most samples under them.
"""

from __future__ import annotations

import argparse
import json
import linecache
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.run import APP_PORT, ROOT, VAR, ensure_seeded, served, session_cookie, warm

PROFILES = VAR / "profiles"
DEFAULT_PATH = "/dashboard?state=screening&department=news"
PY_SPY = Path(sys.executable).with_name("py-spy")


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")[:60] or "root"


def _idle(file: str, line: int) -> bool:
    """Whether a sample's innermost line is a thread waiting for work (py-spy counts such threads as busy)."""
    return ".get(" in linecache.getline(file, line) if file and line else False


def _area(file: str) -> str:
    """The package a frame belongs to: a library by name, Byline's code, its templates, or Python's own."""
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if file.endswith(".html") or "/templates/" in file:
        return "templates"
    if f"{ROOT}/" in file:
        return file.removeprefix(f"{ROOT}/").split("/", 1)[0]
    return "python"


def summarise(profile_file: Path) -> tuple[Counter[str], Counter[str], Counter[str], int]:
    """Samples per function of its own and in total (once per sample), own samples per package, all samples.

    Samples of a thread waiting for work are left out: what remains is time spent computing.
    """
    data = json.loads(profile_file.read_text())
    frames = data["shared"]["frames"]
    names = [
        f"{frame['name']} ({Path(frame.get('file', '')).name}:{frame.get('line', '')})" for frame in frames
    ]
    areas = [_area(frame.get("file", "")) for frame in frames]
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    by_area: Counter[str] = Counter()
    count = 0
    for profile in data["profiles"]:
        for stack in profile["samples"]:
            if not stack:
                continue
            leaf = frames[stack[-1]]
            if _idle(leaf.get("file", ""), leaf.get("line", 0)):
                continue
            count += 1
            own[names[stack[-1]]] += 1
            by_area[areas[stack[-1]]] += 1
            for name in {names[index] for index in stack}:
                total[name] += 1
    return own, total, by_area, count


def print_top(title: str, counter: Counter[str], samples: int, top: int) -> None:
    print(f"\n{title}")
    for name, n in counter.most_common(top):
        print(f"  {100 * n / samples:5.1f}%  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=DEFAULT_PATH, help=f"the page to load (default {DEFAULT_PATH})")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--size", type=int, default=10_000, help="applications in the seeded archive")
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load, all of them sampled")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=25, help="functions listed per table")
    parser.add_argument("--anonymous", action="store_true", help="load the page without logging in")
    parser.add_argument(
        "--cpu-only",
        action="store_true",
        help="no py-spy: only the server's CPU time per request (not slowed)",
    )
    parser.add_argument(
        "--factory",
        default="app.main:create_app",
        help="the app to serve; bench.baseline_app:create_app with --path /rows --anonymous for B1's baseline",
    )
    parser.add_argument("--native", action="store_true", help="include C frames (py-spy --native)")
    parser.add_argument(
        "--nonblocking", action="store_true", help="sample without pausing the server (cheaper, less exact)"
    )
    args = parser.parse_args()
    for tool, hint in ((shutil.which("wrk"), "apt-get install wrk"), (PY_SPY.exists(), "make install")):
        if not tool:
            sys.exit(f"missing a tool: {hint}")
    url = ensure_seeded(args.database, args.size)
    PROFILES.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = PROFILES / f"{stamp}-{args.database}-{args.size}-{_slug(args.path)}.speedscope.json"
    with served(args.factory, url, APP_PORT, quiet=True) as (process, _):
        cookie = "" if args.anonymous else session_cookie(APP_PORT)
        page = f"http://127.0.0.1:{APP_PORT}{args.path}"
        warm(page, cookie)
        spy = [str(PY_SPY), "record", "--pid", str(process.pid), "--rate", str(args.rate)]
        spy += ["--duration", str(args.seconds + 1), "--format", "speedscope", "--output", str(target)]
        spy += (["--nonblocking"] if args.nonblocking else []) + (["--native"] if args.native else [])
        recorder = None
        if not args.cpu_only:
            recorder = subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(0.5)
        before = process.cpu_times()
        command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", page]
        if cookie:
            command[5:5] = ["-H", f"Cookie: {cookie}"]
        out = subprocess.run(command, capture_output=True, text=True).stdout
        after = process.cpu_times()
        errors = recorder.communicate()[1] if recorder else ""
    done = re.search(r"(\d+) requests in", out)
    requests = int(done.group(1)) if done else 0
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    cpu = (after.user + after.system) - (before.user + before.system)
    print(f"page: {args.path} ({args.database}, {args.size:,} applications, {args.connections} connections)")
    print(f"served: {requests} requests, {rps.group(1) if rps else '?'} req/s")
    if requests:
        print(f"server CPU: {1000 * cpu / requests:.2f} ms per request ({cpu:.1f} s in all)")
    problems = re.findall(r"(Non-2xx.*|Socket errors.*)", out)
    for problem in problems:
        print(f"wrk: {problem}")
    if args.cpu_only:
        return
    if not target.exists():
        sys.exit(f"py-spy wrote no profile: {errors.strip()}")
    own, total, by_area, samples = summarise(target)
    print(f"profile: {target.relative_to(VAR.parent.parent)} ({samples} samples)")
    print_top("by package (own time):", by_area, samples, args.top)
    print_top("by own time (the function itself):", own, samples, args.top)
    print_top("by total time (the function and what it calls):", total, samples, args.top)


if __name__ == "__main__":
    main()
