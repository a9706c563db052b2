#!/usr/bin/python3
"""Load driver for a running StackSync: POSTs one script over keep-alive connections and prints
requests/s and latency percentiles. Standard library only.

  bench/load.py --url http://127.0.0.1:8080 --script examples/dataframe.py --clients 4 --seconds 20
  bench/load.py --url ... --script ... --requests 50          # sequential: one client, N requests
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def run(url, body, clients, seconds, requests):
    parsed = urllib.parse.urlparse(url)
    latencies, statuses, errors = [], {}, []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds if seconds else None
    remaining = [requests] if requests else None

    def take_one():
        if remaining is not None:
            with lock:
                if remaining[0] <= 0:
                    return False
                remaining[0] -= 1
            return True
        return time.monotonic() < stop_at

    def client():
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        while take_one():
            start = time.perf_counter()
            try:
                conn.request("POST", "/execute", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except Exception as exc:  # a dropped connection is a result to report, not a crash
                with lock:
                    errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
                continue
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / wall if wall > 0 else 0.0,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "statuses": statuses,
        "errors": errors,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--script", required=True, help="a python file defining main()")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=0, help="run for this long (bounded load)")
    parser.add_argument("--requests", type=int, default=0, help="or send exactly this many")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not args.seconds and not args.requests:
        args.requests = 50
    body = json.dumps({"script": open(args.script).read()})
    stats = run(args.url, body, args.clients, min(args.seconds, 600), args.requests)
    if args.json:
        print(json.dumps(stats))
    else:
        print("%d requests, %.1f req/s, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, statuses %s, errors %d"
              % (stats["requests"], stats["rps"], stats["p50"], stats["p95"], stats["p99"],
                 stats["statuses"], len(stats["errors"])))
    return 0 if not stats["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
