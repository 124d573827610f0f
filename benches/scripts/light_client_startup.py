#!/usr/bin/env python3
"""Light-client start-up: process start -> API answering -> first height verified available.

Usage: light_client_startup.py LIGHT_CLIENT_BINARY DEVNET_DIR [RUNS]
Starts the binary against a running devnet (`da-node devnet --data-dir DEVNET_DIR`) RUNS times,
each a fresh process with its own API port, polls GET /status every 10 ms, and prints when the
API first answered, when `heights.available` first became > 0 (a height sampled to the target
confidence, every cell proof verified), and the process's VmRSS then.
"""
import json
import socket
import subprocess
import sys
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(exe, devnet):
    port = free_port()
    t0 = time.time()
    p = subprocess.Popen(
        [exe, "--devnet", devnet, "--api", f"127.0.0.1:{port}", "--quiet", "--window", "4"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = first = None
    try:
        while time.time() - t0 < 30:
            try:
                url = f"http://127.0.0.1:{port}/status"
                st = json.load(urllib.request.urlopen(url, timeout=1))
                api = api if api is not None else time.time() - t0
                if st.get("heights", {}).get("available", 0) > 0:
                    first = time.time() - t0
                    break
            except OSError:
                pass
            time.sleep(0.01)
        rss = 0
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    rss = int(line.split()[1]) // 1024
    finally:
        p.kill()
        p.wait()
    return api, first, rss


def main():
    exe, devnet = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    for r in range(runs):
        api, first, rss = run(exe, devnet)
        fmt = lambda t: "never" if t is None else f"{t:.3f} s"
        print(f"run {r}: API up {fmt(api)}, first height verified {fmt(first)}, RSS {rss} MiB")


if __name__ == "__main__":
    main()
