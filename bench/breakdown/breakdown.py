#!/usr/bin/python3
"""Where one warm request's time goes, phase by phase (issue 4's breakdown).

Talks to a server built with instrument.patch (breakdown.sh does that): the service, the spare's
init and the payload stamp CLOCK_MONOTONIC at each hand-over; this client stamps sending and
receiving. Sends sequential requests over one keep-alive connection and prints the median and mean of
each phase.

  breakdown.py --port N --log SERVER_STDERR [--requests 200] [--gap SECONDS] [--script FILE]
"""
import argparse
import http.client
import json
import re
import statistics
import time

PHASES = [
    ("HTTP read, admission queue, dispatch to a worker", "client_sent", "start"),
    ("request cgroup, pipes, script memfd; sent to the zygote", "start", "sent"),
    ("the zygote wakes and receives the request", "sent", "zygote_received"),
    ("the zygote passes the fds to a prepared spare", "zygote_received", "zygote_sent"),
    ("the spare's payload wakes and receives them", "zygote_sent", "payload_received"),
    ("payload moves itself into the request's cgroups", "payload_received", "moved"),
    ("payload: cgroup namespace, fds, capabilities dropped, seccomp", "moved", "locked_in"),
    ("harness starts and reads the script", "locked_in", "script_read"),
    ("compile, module body, main()", "script_read", "main_returned"),
    ("result frame written; the service sees it and EOF", "main_returned", "done"),
    ("classify, cgroup hand-off, JSON reply over HTTP", "done", "client_received"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True, help="the instrumented server's stderr")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--gap", type=float, default=0.0, help="pause between requests (s)")
    parser.add_argument("--script", default=None)
    args = parser.parse_args()
    script = open(args.script).read() if args.script else "def main():\n    return 1\n"
    body = json.dumps({"script": script})
    connection = http.client.HTTPConnection("127.0.0.1", args.port)
    runs = []
    for _ in range(args.requests):
        sent = time.monotonic_ns()
        connection.request("POST", "/execute", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        reply = json.loads(response.read())
        received = time.monotonic_ns()
        if response.status != 200:
            raise SystemExit("request failed: %r" % reply)
        stamps = [int(t) for t in re.search(r"BREAKDOWN ([0-9 ]+)", reply["stderr"]).group(1).split()]
        names = ["zygote_received", "zygote_sent", "payload_received", "moved", "locked_in", "script_read",
                 "main_returned"]
        run = dict(zip(names, stamps))
        run.update(client_sent=sent, client_received=received)
        runs.append(run)
        if args.gap:
            time.sleep(args.gap)
    time.sleep(0.2)
    log = open(args.log).read()
    starts = re.findall(r"BREAKDOWN start=(\d+) sent=(\d+)", log)
    dones = re.findall(r"BREAKDOWN done=(\d+)", log)
    # The service runs a self-check before it listens: the stamps of our runs are the last ones.
    starts, dones = starts[-len(runs):], dones[-len(runs):]
    if len(starts) != len(runs) or len(dones) != len(runs):
        raise SystemExit("expected %d stamped runs in the log, found %d/%d" % (len(runs), len(starts), len(dones)))
    for run, (start, sent), done in zip(runs, starts, dones):
        run.update(start=int(start), sent=int(sent), done=int(done))
    # Means add up to the end-to-end mean; medians show the typical request.
    print("| phase | median ms | mean ms |")
    print("| --- | --- | --- |")
    for label, begin, end in PHASES + [("**end to end, as the client sees it**", "client_sent", "client_received")]:
        spans = [(r[end] - r[begin]) / 1e6 for r in runs]
        print("| %s | %.3f | %.3f |" % (label, statistics.median(spans), statistics.mean(spans)))


if __name__ == "__main__":
    main()
