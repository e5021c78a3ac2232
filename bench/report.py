#!/usr/bin/env python3
"""bench/report.py RESULTS_DIR - turn bench/run's raw JSON into the report.

Reads RESULTS_DIR/raw/*.jsonl, writes RESULTS_DIR/report.md (printed too),
RESULTS_DIR/results.json (everything, grouped by system) and, when gnuplot is
installed, RESULTS_DIR/throughput.png. Standard library only.
"""
import json
import os
import shutil
import subprocess
import sys

out = sys.argv[1]
raw = os.path.join(out, "raw")

SYSTEMS = [  # (key, column title, raw file)
    ("sluice", "Sluice", "sluice.jsonl"),
    ("mock", "mock ceiling", "mock.jsonl"),
    ("redis-always", "Redis always", "redis-always.jsonl"),
    ("redis-everysec", "Redis everysec", "redis-everysec.jsonl"),
    ("nats", "NATS JS", "nats.jsonl"),
]


def load(name):
    rows = []
    try:
        for line in open(os.path.join(raw, name)):
            line = line.strip()
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return rows


data = {k: load(f) for k, _, f in SYSTEMS}
machine = load("machine.jsonl")
foot = load("footprint.jsonl")
try:
    run = json.load(open(os.path.join(raw, "run.json")))
except (OSError, ValueError):
    run = {}


def short(err, n=60):
    err = (err or "failed").replace("|", "/")
    return err if len(err) <= n else err[: n - 1] + "…"


def get(system, id_):
    """(row, None) or (None, reason) for a scenario id of a system."""
    rows = data.get(system)
    if rows is None:
        return None, None
    for r in rows:
        if r.get("scenario") == "na":
            return None, "n/a: " + short(r.get("error"))
    for r in rows:
        if r.get("id") == id_:
            if r.get("ok"):
                return r, None
            return None, "n/a: " + short(r.get("error"))
    if not rows:
        return None, "not run"
    return None, None  # this system has no such figure


def mget(id_):
    for r in machine:
        if r.get("id") == id_ and r.get("ok"):
            return r
    return None


def fget(label, id_):
    for r in foot:
        if r.get("label") == label and r.get("id") == id_:
            return r
    for r in foot:
        if r.get("scenario") == "na" and r.get("label") == label:
            return r
    return None


def fmt(v, unit=""):
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if abs(v) >= 1000:
        s = "{:,.0f}".format(v)
    elif abs(v) >= 100:
        s = "{:.0f}".format(v)
    elif abs(v) >= 10:
        s = "{:.1f}".format(v)
    else:
        s = "{:.2f}".format(v)
    return s + unit


def ratio(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
        return a / b
    return None


table = []  # (figure, {system: value or str}, machine value, ratio text, target)
chart = []  # (label, {system: MiB/s})


def tput_row(figure, id_, key, unit, machine_val, target, chart_label=None):
    vals = {}
    for s, _, _ in SYSTEMS:
        r, why = get(s, id_)
        vals[s] = r[key] if r else why
    rs = []
    for s, name in (("mock", "mock"), ("redis-always", "Redis always"), ("nats", "NATS")):
        q = ratio(vals["sluice"], vals[s])
        if q is not None:
            rs.append("{:.2f}x {}".format(q, name))
    q = ratio(vals["sluice"], machine_val)
    if q is not None:
        rs.append("{:.2f}x machine".format(q))
    table.append((figure, vals, machine_val, ", ".join(rs), target, unit))
    if chart_label:
        chart.append((chart_label, {s: (vals[s] if isinstance(vals[s], (int, float)) else None) for s, _, _ in SYSTEMS},
                      machine_val))


sync1m = mget("disk_fdatasync_1m")
buffered = mget("disk_buffered")
loop = mget("loopback")
fsl = mget("fsync_lat")
disk_limit = sync1m["mib_per_s"] if sync1m else None
loop_limit = loop["mib_per_s"] if loop else None

tput_row("produce 1 KiB, acks=1, 1 partition (MiB/s)", "p_1k_a1_1p", "mib_per_s", "", disk_limit,
         ">= 0.8x mock", "produce 1KiB acks=1")
tput_row("produce 1 KiB, acks=all, 1 partition (MiB/s)", "p_1k_all_1p", "mib_per_s", "", disk_limit,
         ">= 0.8x mock; >= 3x Redis always, NATS", "produce 1KiB acks=all")
tput_row("produce 1 KiB, acks=all, 8 partitions (MiB/s)", "p_1k_all_8p", "mib_per_s", "", disk_limit,
         ">= 0.8x mock", "produce 1KiB acks=all 8p")
tput_row("produce 100 B, acks=all, 1 partition (msg/s)", "p_100_all_1p", "msgs_per_s", "", None,
         ">= 0.8x mock; >= 3x Redis always, NATS")
tput_row("consume 1 KiB from the start, 1 partition (MiB/s)", "c_1k_1p", "mib_per_s", "", loop_limit,
         ">= 0.9x mock; >= 3x Redis, NATS", "consume 1KiB")
tput_row("consume 1 KiB from the start, 8 partitions (MiB/s)", "c_1k_8p", "mib_per_s", "", loop_limit,
         ">= 0.9x mock", "consume 1KiB 8p")


def lat_row(figure, key, mval, target):
    vals = {}
    for s, _, _ in SYSTEMS:
        r, why = get(s, "e2e")
        vals[s] = (r[key] / 1000.0 if r and r.get(key, -1) >= 0 else why)
    rs = []  # no ratio to the mock here: its Fetch does not wake on new data
    q = ratio(vals["sluice"], mval)
    if q is not None:
        rs.append("{:.2f}x fdatasync".format(q))
    table.append((figure, vals, mval, ", ".join(rs), target, ""))


rate = run.get("e2e_rate", 5000)
lat_row("end-to-end p50 at {:,} msg/s, acks=all (ms)".format(rate), "p50_us",
        fsl["p50_us"] / 1000 if fsl else None, "")
lat_row("end-to-end p99 (ms)", "p99_us", fsl["p99_us"] / 1000 if fsl else None, "< 2 ms")
lat_row("end-to-end p99.9 (ms)", "p999_us", fsl["p999_us"] / 1000 if fsl else None, "")
lat_row("end-to-end max (ms)", "max_us", fsl["max_us"] / 1000 if fsl else None, "")
lat_row("produce ack p99 in that run (ms)", "ack_p99_us", fsl["p99_us"] / 1000 if fsl else None, "")


def foot_row(figure, label_key, getter, target, unit=""):
    vals = {}
    for s, _, _ in SYSTEMS:
        lab = {"sluice": "sluice", "redis-always": "redis", "nats": "nats"}.get(s)
        vals[s] = getter(lab) if lab else None
    rs = []
    for s, name in (("redis-always", "Redis"), ("nats", "NATS")):
        q = ratio(vals["sluice"], vals[s])
        if q is not None:
            rs.append("{:.2f}x {}".format(q, name))
    table.append((figure, vals, None, ", ".join(rs), target, unit))


def g_startup(lab):
    r = fget(lab, "startup")
    if not r:
        return None
    return r["median_ms"] if r.get("ok") else "n/a: " + short(r.get("error"))


def g_rss(id_):
    def g(lab):
        r = fget(lab, id_)
        if not r and lab == "sluice":
            r = fget(lab, "rss_idle")  # sluiced did not start: say why
            if r and r.get("ok"):
                return None
        if not r:
            return None
        return r["kib"] / 1024.0 if r.get("ok") else "n/a: " + short(r.get("error"))
    return g


def g_per_part(lab):
    if lab != "sluice":
        return None
    idle, big = fget(lab, "rss_idle"), fget(lab, "rss_10000")
    small = fget(lab, "rss_1000")
    if big and big.get("ok") and idle and idle.get("ok"):
        return (big["kib"] - idle["kib"]) / 10000.0
    if small and small.get("ok") and idle and idle.get("ok"):
        return (small["kib"] - idle["kib"]) / 1000.0
    for r in (small, big, idle):
        if r and not r.get("ok"):
            return "n/a: " + short(r.get("error"))
    return None


def g_recovery(lab):
    if lab != "sluice":
        return None
    r = fget(lab, "recovery")
    if not r:
        return None
    if not r.get("ok"):
        return "n/a: " + short(r.get("error"))
    return r["ready_ms"] / 1000.0


foot_row("startup to first accepted connection, median (ms)", "startup", g_startup, "< 20 ms")
foot_row("idle RSS (MiB)", "rss_idle", g_rss("rss_idle"), "< 10 MiB")
foot_row("RSS with 1,000 partitions (MiB)", "rss_1000", g_rss("rss_1000"), "")
foot_row("RSS with 10,000 partitions (MiB)", "rss_10000", g_rss("rss_10000"), "")
foot_row("RSS per idle partition (KiB)", "pp", g_per_part, "< 100 KiB")
rec = fget("sluice", "recovery")
rec_fig = "restart after kill -9 with {} MiB, to ready (s)".format(
    rec.get("mib") if rec and rec.get("ok") else run.get("recovery_mib", "?"))
foot_row(rec_fig, "recovery", g_recovery, "")

# ------------------------------------------------------------------ markdown
L = []
L.append("# Sluice benchmark, {}{}".format(run.get("stamp", "?"), " (--quick: smaller sizes)" if run.get("quick") else ""))
L.append("")
L.append("Machine: {} cores, kernel {}, load average before {}. Sizes: {:,} x 1 KiB, {:,} x 100 B per produce scenario "
         "(Kafka); end-to-end {:,} msg/s for {} s.".format(run.get("nproc", "?"), run.get("kernel", "?"),
                                                         run.get("load_before", "?"), run.get("n1k", 0),
                                                         run.get("n100", 0), rate, run.get("e2e_seconds", "?")))
L.append("")
L.append("Machine limits: sequential write buffered {} MiB/s, with fdatasync every 1 MiB {} MiB/s; "
         "fdatasync of a 4 KiB append p50 {} ms, p99 {} ms; loopback TCP {} Gbit/s ({} MiB/s).".format(
             fmt(buffered["mib_per_s"]) if buffered else "n/a", fmt(disk_limit) if disk_limit else "n/a",
             fmt(fsl["p50_us"] / 1000) if fsl else "n/a", fmt(fsl["p99_us"] / 1000) if fsl else "n/a",
             fmt(loop["gbit_per_s"]) if loop else "n/a", fmt(loop_limit) if loop_limit else "n/a"))
L.append("")
cols = [t for _, t, _ in SYSTEMS]
L.append("| figure | " + " | ".join(cols) + " | machine limit | ratios (Sluice / x) | target |")
L.append("|---|" + "---:|" * len(cols) + "---:|---|---|")
for figure, vals, mval, rs, target, unit in table:
    cells = [fmt(vals.get(s), unit) for s, _, _ in SYSTEMS]
    L.append("| {} | {} | {} | {} | {} |".format(figure, " | ".join(cells), fmt(mval), rs or "—", target or ""))
L.append("")
L.append("Targets are goals, not pass/fail. Machine limit: produce rows = sequential write with fdatasync every "
         "1 MiB (fio); consume rows = loopback TCP (iperf3); latency rows = one fdatasync. Redis and NATS do not "
         "have acks=1 / partitions: they appear in the rows they can be compared on (XADD, JetStream publish with "
         "ack; Redis reads are XRANGE of 100 entries). NATS 2.9's file store acknowledges before fsync. "
         "The mock's end-to-end latency is no ceiling (it answers Fetch only after fetch.wait.max.ms). "
         "See docs/performance.md.")
if rec and rec.get("ok"):
    L.append("")
    L.append("Recovery: {:,} messages acknowledged (acks=1) before kill -9; high watermark after restart {:,}{}.".format(
        rec.get("acked", 0), rec.get("high_watermark", -1),
        "" if rec.get("high_watermark", -1) >= rec.get("acked", 0) else " — ACKNOWLEDGED DATA LOST"))
report = "\n".join(L) + "\n"
open(os.path.join(out, "report.md"), "w").write(report)
print(report)

json.dump({"run": run, "machine": machine, "footprint": foot, "systems": data},
          open(os.path.join(out, "results.json"), "w"), indent=1)

# ------------------------------------------------------------------ chart
if shutil.which("gnuplot") and chart:
    dat = os.path.join(out, "throughput.dat")
    with open(dat, "w") as f:
        f.write("figure " + " ".join('"{}"'.format(t) for _, t, _ in SYSTEMS) + ' "machine limit"\n')
        for label, vals, mval in chart:
            f.write('"{}" '.format(label) + " ".join(
                "{:.2f}".format(vals[s]) if vals[s] is not None else "?" for s, _, _ in SYSTEMS) +
                    " " + ("{:.2f}".format(mval) if mval else "?") + "\n")
    n = len(SYSTEMS) + 1
    gp = """set terminal pngcairo size 1200,600 noenhanced font ",10"
set output "{png}"
set title "Sluice benchmark {stamp}: throughput, MiB/s (higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set datafile missing "?"
set key outside top center horizontal
set ylabel "MiB/s"
set yrange [0:*]
set xtics rotate by -20
set grid ytics
plot for [i=2:{last}] "{dat}" using i:xtic(1) title columnheader(i)
""".format(png=os.path.join(out, "throughput.png"), stamp=run.get("stamp", ""), last=n + 1, dat=dat)
    gpf = os.path.join(out, "throughput.gp")
    open(gpf, "w").write(gp)
    try:
        subprocess.run(["gnuplot", gpf], timeout=30, check=False, stderr=subprocess.DEVNULL)
    except Exception:
        pass
    if os.path.exists(os.path.join(out, "throughput.png")):
        print("chart: " + os.path.join(out, "throughput.png"))
