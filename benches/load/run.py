#!/usr/bin/env python3
"""Load check of the fake server (nanobanana-mock), measured against baselines in the same run.

Issue 4's performance targets, on loopback with `wrk` (Debian package `wrk`) as the second
process, 64 connections:

* replay of a small fixture with semantic JSON matching: at least 2.5x wiremock-rs with a
  `body_json` matcher (measured in the same run), p99 under 5 ms, using both cores;
* a 1.5 MB replayed response: at least 5 GB/s of response bodies;
* simulate of a 512 image (repeated request, answer cache): requests/s reported;
* memory flat under load: peak RSS after one million requests within 50 MB of the RSS after the
  first thousand.

Usage (from anywhere; builds what it needs in release mode first):

    python3 benches/load/run.py [--duration SECONDS] [--skip-memory] [--requests N]

Prints one table and a verdict per target. Stdlib only. The machine is shared by the server and
the load generator, so absolute numbers move with the machine; the ratios are the point.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import http.client
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOAD = ROOT / "benches" / "load"
TARGET = ROOT / "target" / "load"
SMALL_CASE = ROOT / "fixtures" / "cases" / "generate" / "text-to-image-flash25.json"
LUA = """
local f = io.open(os.getenv("NB_BODY"), "rb"); local body = f:read("*a"); f:close()
wrk.method = "POST"; wrk.body = body
wrk.headers["Content-Type"] = "application/json"; wrk.headers["x-goog-api-key"] = "load-test"
"""


def die(message):
    print(f"run.py: {message}", file=sys.stderr)
    sys.exit(2)


def build():
    if shutil.which("wrk") is None:
        die("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "-p", "nanobanana-mock", "--bin", "nanobanana-mock"],
        cwd=ROOT, check=True)
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--manifest-path", str(LOAD / "Cargo.toml")],
        cwd=ROOT, check=True, env={**os.environ, "CARGO_TARGET_DIR": str(TARGET)})
    return {
        "mock": ROOT / "target" / "release" / "nanobanana-mock",
        "wiremock": TARGET / "release" / "wiremock_baseline",
        "hyper": TARGET / "release" / "bare_hyper",
    }


def expand(value, blobs):
    """The wire text of a case body: `{"$blob": ...}` becomes standard base64 of the blob."""
    if isinstance(value, dict):
        if set(value) == {"$blob"}:
            return base64.b64encode((blobs / value["$blob"]).read_bytes()).decode()
        return {k: expand(v, blobs) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, blobs) for v in value]
    return value


def write_case(corpus, case, big_image=None):
    """Copies `case` into a scratch corpus; with `big_image`, its image blob is replaced."""
    blobs = ROOT / "fixtures" / "blobs"
    case = json.loads(json.dumps(case))
    (corpus / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (corpus / "cases" / "load").mkdir(parents=True, exist_ok=True)
    if big_image is not None:
        digest = hashlib.sha256(big_image).hexdigest()
        (corpus / "blobs" / "sha256" / digest).write_bytes(big_image)
        parts = case["interactions"][0]["response"]["body"]["candidates"][0]["content"]["parts"]
        for part in parts:
            if "inlineData" in part:
                part["inlineData"]["data"] = {"$blob": f"sha256/{digest}"}
        case["id"] = "load/big-response"
    else:
        case["id"] = "load/small-response"
    for blob in json.dumps(case).split('"sha256/')[1:]:
        name = blob[:64]
        target = corpus / "blobs" / "sha256" / name
        if not target.exists():
            shutil.copyfile(blobs / "sha256" / name, target)
    case.pop("$schema", None)
    (corpus / "cases" / case["id"]).with_suffix(".json").write_text(json.dumps(case))
    interaction = case["interactions"][0]
    request = expand(interaction["request"]["body"], corpus / "blobs")
    response = expand(interaction["response"]["body"], corpus / "blobs")
    return interaction["request"]["path"], json.dumps(request).encode(), json.dumps(response).encode()


class Server:
    """A server process that prints `listening on URL` as its first stdout line."""

    def __init__(self, argv, stop=signal.SIGINT):
        self.stop = stop
        self.process = subprocess.Popen(
            [str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        match = re.match(r"listening on (http://\S+)", line)
        if not match:
            self.close()
            die(f"{argv[0]} did not start (first line: {line!r})")
        self.url = match.group(1).rstrip("/")

    def status(self):
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        return fields

    def rss_mb(self):
        return int(self.status()["VmRSS"].split()[0]) / 1024

    def peak_mb(self):
        return int(self.status()["VmHWM"].split()[0]) / 1024

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self):
        if self.process.poll() is None:
            self.process.send_signal(self.stop)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def check_once(url, route, body):
    """One request by hand: the scenario must answer 200 before it is loaded."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("POST", route, body=body,
                       headers={"content-type": "application/json", "x-goog-api-key": "load-test"})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    if response.status != 200:
        die(f"{url}{route} answered {response.status}: {payload[:300]!r}")
    return len(payload)


def to_ms(text):
    """wrk's durations: `812.00us`, `1.20ms`, `2.01s`, `1.00m`."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        die(f"cannot read wrk's duration {text!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}[unit]


def wrk(url, route, body_file, seconds, scratch, connections=64):
    script = scratch / "post.lua"
    script.write_text(LUA)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url + route],
        env={**os.environ, "NB_BODY": str(body_file)}, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        die(f"wrk saw errors against {url}{route}:\n{out}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        # The "Latency Distribution" lines start with the percentile ("+/- Stdev" cells end in %).
        "p50": to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)),
        "p99": to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)),
    }


def measure(name, server, route, body, seconds, scratch):
    body_file = scratch / f"{name}.json"
    body_file.write_bytes(body)
    size = check_once(server.url, route, body)
    wrk(server.url, route, body_file, 1, scratch)  # warm-up, discarded
    cpu = server.cpu_seconds()
    result = wrk(server.url, route, body_file, seconds, scratch)
    result["cores"] = (server.cpu_seconds() - cpu) / seconds
    result["size"] = size
    result["gbps"] = result["rps"] * size / 1e9
    result["rss"] = server.rss_mb()
    return result


def memory_run(binaries, corpus, route, body, total, scratch):
    """RSS after the first thousand requests vs peak RSS after `total` requests."""
    server = Server([binaries["mock"], "--quiet", "--mode", "replay", "--fixtures", corpus])
    try:
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        for _ in range(1000):
            connection.request("POST", route, body=body,
                               headers={"content-type": "application/json", "x-goog-api-key": "k"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                die(f"memory run: status {response.status}")
        connection.close()
        after_thousand = server.rss_mb()
        body_file = scratch / "memory.json"
        body_file.write_bytes(body)
        done = 1000
        while done < total:
            done += wrk(server.url, route, body_file, 5, scratch)["requests"]
        return {"after_thousand": after_thousand, "peak": server.peak_mb(), "rss": server.rss_mb(),
                "requests": done}
    finally:
        server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per scenario [8]")
    parser.add_argument("--requests", type=int, default=1_000_000,
                        help="requests of the memory run [1000000]")
    parser.add_argument("--skip-memory", action="store_true", help="skip the memory run")
    args = parser.parse_args()

    binaries = build()
    case = json.loads(SMALL_CASE.read_text())
    scratch = Path(tempfile.mkdtemp(prefix="nanobanana-load-"))
    try:
        small = scratch / "small"
        route, request, response = write_case(small, case)
        big = scratch / "big"
        # 1.1 MB of image bytes: about 1.5 MB of base64 in the JSON response.
        big_route, big_request, big_response = write_case(
            big, case, big_image=hashlib.shake_256(b"nanobanana").digest(1_100_000))
        (scratch / "request.json").write_bytes(request)
        (scratch / "response.json").write_bytes(response)
        simulate_route = "/v1beta/models/gemini-3.1-flash-image:generateContent"
        simulate_body = json.dumps({
            "contents": [{"role": "user", "parts": [{"text": "A nano banana, load test"}]}],
            "generationConfig": {"responseModalities": ["IMAGE"],
                                 "imageConfig": {"aspectRatio": "1:1", "imageSize": "512"}},
        }).encode()

        scenarios = [
            ("bare hyper, fixed body (ceiling, context only)",
             [binaries["hyper"], scratch / "response.json"], signal.SIGKILL, route, request),
            ("nanobanana-mock replay, small fixture",
             [binaries["mock"], "--quiet", "--mode", "replay", "--fixtures", small],
             signal.SIGINT, route, request),
            (f"nanobanana-mock replay, {len(big_response) / 1e6:.1f} MB response",
             [binaries["mock"], "--quiet", "--mode", "replay", "--fixtures", big],
             signal.SIGINT, big_route, big_request),
            ("nanobanana-mock simulate, 512 image (cached)",
             [binaries["mock"], "--quiet", "--mode", "simulate"],
             signal.SIGINT, simulate_route, simulate_body),
            ("wiremock-rs 0.6, method+path+body_json",
             [binaries["wiremock"], scratch / "request.json", scratch / "response.json", route],
             signal.SIGINT, route, request),
        ]
        results = []
        for index, (name, argv, stop, scenario_route, body) in enumerate(scenarios):
            # wiremock-rs runs from one thread and its throughput on this shared machine is
            # bimodal (about 21k or about 50k requests/s from one fresh process to the next):
            # it gets the better of two fresh processes, so the comparison never flatters us.
            runs = []
            for _ in range(2 if "wiremock" in name else 1):
                server = Server(argv, stop)
                try:
                    runs.append(measure(f"s{index}", server, scenario_route, body,
                                        args.duration, scratch))
                finally:
                    server.close()
            best = max(runs, key=lambda r: r["rps"])
            if len(runs) > 1:
                name = f"{name} (best of {len(runs)}: " + \
                    ", ".join(f"{r['rps']:,.0f}" for r in runs) + ")"
            results.append((name, best))

        print(f"\nwrk -t2 -c64 -d{args.duration}s, {os.cpu_count()} cores shared by server and wrk\n")
        print(f"| scenario | requests/s | p50 | p99 | server cores | body | body GB/s | RSS |")
        print(f"|---|---|---|---|---|---|---|---|")
        for name, r in results:
            print(f"| {name} | {r['rps']:,.0f} | {r['p50']:.2f} ms | {r['p99']:.2f} ms | "
                  f"{r['cores']:.2f} | {r['size'] / 1e3:,.1f} kB | {r['gbps']:.2f} | {r['rss']:.1f} MB |")

        verdicts = []
        # wiremock-rs runs last: its exit frees gigabytes, which would disturb the next scenario.
        replay, big_replay, wiremock = results[1][1], results[2][1], results[4][1]
        ratio = replay["rps"] / wiremock["rps"]
        verdicts.append((f"replay vs wiremock-rs body_json: {ratio:.2f}x (target >= 2.5x)", ratio >= 2.5))
        verdicts.append((f"replay p99: {replay['p99']:.2f} ms (target < 5 ms)", replay["p99"] < 5.0))
        verdicts.append((f"replay uses {replay['cores']:.2f} cores (target > 1, both cores)",
                         replay["cores"] > 1.0))
        verdicts.append((f"big replay: {big_replay['gbps']:.2f} GB/s of bodies (target >= 5)",
                         big_replay["gbps"] >= 5.0))
        if not args.skip_memory:
            memory = memory_run(binaries, small, route, request, args.requests, scratch)
            growth = memory["peak"] - memory["after_thousand"]
            verdicts.append((
                f"memory: RSS {memory['after_thousand']:.1f} MB after 1,000 requests, peak "
                f"{memory['peak']:.1f} MB after {memory['requests']:,} (growth {growth:.1f} MB, "
                f"target <= 50)", growth <= 50.0))
        print()
        for text, ok in verdicts:
            print(f"{'PASS' if ok else 'FAIL'}  {text}")
        return 0 if all(ok for _, ok in verdicts) else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
