#!/usr/bin/env python3
"""Latency of GET /api/v1/me while a flood of failed sign-ins runs (issue 20 measurement).

usage: flood.py BASE TOKEN RATE SECONDS
RATE: sign-in attempts per second (open loop, spread over worker threads), 0 = no flood.
Each attempt comes from its own loopback address (127.0.x.y) and an unknown login, so
neither the per-address throttle nor any lock answers early: every attempt costs one Argon2.
"""
import http.client, json, sys, threading, time, statistics, itertools

base, token, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
host, port = base.replace("http://", "").split(":")
port = int(port)
stop = time.time() + seconds
addrs = itertools.count(0)
lock = threading.Lock()
sent = [0]
codes = {}
login_lat = []

def login_worker(interval):
    nxt = time.time()
    while time.time() < stop:
        with lock:
            n = next(addrs)
        src = f"127.{1 + (n // 250) % 250}.{1 + n % 250}.{1 + (n // 62500) % 250}"
        try:
            c = http.client.HTTPConnection(host, port, timeout=30, source_address=(src, 0))
            t0 = time.time()
            c.request("POST", "/api/v1/login", json.dumps({"login": f"nobody{n}", "password": "guess guess guess"}), {"content-type": "application/json"})
            r = c.getresponse(); r.read(); c.close()
            with lock:
                codes[r.status] = codes.get(r.status, 0) + 1
                login_lat.append(time.time() - t0)
                sent[0] += 1
        except Exception as e:
            with lock:
                codes[str(type(e).__name__)] = codes.get(str(type(e).__name__), 0) + 1
        nxt += interval
        d = nxt - time.time()
        if d > 0:
            time.sleep(d)

threads = []
if rate > 0:
    workers = max(1, int(rate))  # one worker per attempt/s, each one attempt a second
    for _ in range(workers):
        t = threading.Thread(target=login_worker, args=(workers / rate,), daemon=True)
        t.start(); threads.append(t)

time.sleep(1.0)
lat = []
c = http.client.HTTPConnection(host, port, timeout=30)
while time.time() < stop - 0.5:
    t0 = time.time()
    c.request("GET", "/api/v1/me", headers={"authorization": f"Bearer {token}"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
    lat.append((time.time() - t0) * 1000)
    time.sleep(0.02)
for t in threads:
    t.join(timeout=40)
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
elapsed = seconds
print(json.dumps({"flood_per_s_target": rate, "logins_answered": sent[0], "login_codes": codes,
                  "login_p50_ms": round(statistics.median(login_lat) * 1000, 1) if login_lat else None,
                  "me_requests": len(lat), "me_p50_ms": round(q(0.5), 1), "me_p90_ms": round(q(0.9), 1),
                  "me_p99_ms": round(q(0.99), 1), "me_max_ms": round(lat[-1], 1)}))
