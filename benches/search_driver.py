#!/usr/bin/env python3
"""Driver of benches/search.sh (see docs/benchmarks.md): query sets, wrk phases, the SQL capture,
pgbench replaying it, recall per error kind, the report. Standard library only.

Environment (set by search.sh): BENCH_TMP, BENCH_PGURL, BENCH_PGLOG, BENCH_HEARTH, BENCH_TOKEN,
BENCH_PGBENCH, BENCH_PSQL, BENCH_DURATION, BENCH_WARMUP, BENCH_RECALL, BENCH_OUT, BENCH_CONCURRENCY,
BENCH_BEFORE (1: also replay the replaced search statement).
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

TMP = os.environ["BENCH_TMP"]
PGURL = os.environ["BENCH_PGURL"]
PGLOG = os.environ["BENCH_PGLOG"]
HEARTH = os.environ["BENCH_HEARTH"]
TOKEN = os.environ["BENCH_TOKEN"]
PGBENCH = os.environ["BENCH_PGBENCH"]
PSQL = os.environ["BENCH_PSQL"]
DURATION = int(os.environ.get("BENCH_DURATION", "15"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "4"))
RECALL_N = int(os.environ.get("BENCH_RECALL", "150"))
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1 4").split()]
OUT = os.environ["BENCH_OUT"]
REPLAYS = 100  # captured requests per kind (pgbench takes at most 128 scripts)
TOP = 10  # recall: the original among the first TOP hits


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def psql(sql):
    out = subprocess.run([PSQL, PGURL, "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def search(body):
    req = urllib.request.Request(HEARTH + "/v1/clients/search", data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + TOKEN,
                                          "Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    i = max(0, min(len(xs) - 1, int(len(xs) * p / 100 + 0.999999) - 1))
    return xs[i]


# ------------------------------------------------------------------------------------------------
# Query sets. Name searches use the seeded duplicates' (erroneous) data, as an intake worker would
# type it; exact lookups draw open originals and rotate over the four keys.
dups = psql("SELECT d.kind, d.orig_id, d.first_name, d.last_name, d.dob FROM bench_dups d "
            "ORDER BY md5(d.i::text)")
originals = psql("SELECT c.id, c.short_uid, c.ssn, c.dob FROM clients c WHERE c.visibility = 'open' "
                 "AND c.ssn IS NOT NULL ORDER BY md5(c.id::text) LIMIT 2000")
QUERIES = {
    "name_dob": [{"first_name": f, "last_name": l, "dob": d} for _, _, f, l, d in dups[:2000]],
    "name": [{"first_name": f, "last_name": l} for _, _, f, l, _ in dups[2000:4000]],
    "exact": [],
}
for n, (cid, uid, ssn, dob) in enumerate(originals):
    QUERIES["exact"].append([{"client_id": cid}, {"short_uid": uid}, {"ssn": ssn},
                             {"ssn": ssn[-4:], "dob": dob}][n % 4])
KINDS = ["exact", "name_dob", "name"]


def lua_for(kind):
    path = os.path.join(TMP, "search-%s.lua" % kind)
    bodies = ",\n".join("  %s" % json.dumps(json.dumps(q)) for q in QUERIES[kind])
    with open(path, "w") as f:
        f.write("""local bodies = {
%s
}
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("seed", counter) end
init = function(args) math.randomseed(os.time() * 1000 + (seed or 0)) end
request = function()
  return wrk.format("POST", "/v1/clients/search",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %s"},
    bodies[math.random(1, #bodies)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCHJSON %%d %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
""" % (bodies, TOKEN))
    return path


def run_wrk(kind, conns, seconds):
    out = subprocess.run(["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", "%ds" % seconds,
                          "--timeout", "10s", "-s", lua_for(kind), HEARTH],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    line = [x for x in out.splitlines() if x.startswith("BENCHJSON")]
    if not line:
        sys.exit("wrk gave no summary:\n" + out)
    reqs, dur, p50, p95, p99, mx, non2xx, errs = map(int, line[0].split()[1:])
    return {"requests": reqs, "per_s": round(reqs / (dur / 1e6), 1), "p50_ms": p50 / 1000,
            "p95_ms": p95 / 1000, "p99_ms": p99 / 1000, "max_ms": mx / 1000,
            "non_2xx": non2xx, "socket_errors": errs}


# ------------------------------------------------------------------------------------------------
# Capture the SQL each request issues (log_statement = all), REPLAYS requests per kind.
HEAD = re.compile(r"^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] app=\S* ([A-Z]+):  (.*)$")


def parse_log(text):
    entries = []
    for line in text.split("\n"):
        m = HEAD.match(line)
        if m:
            entries.append([m.group(1), m.group(2)])
        elif entries and line.startswith("\t"):
            entries[-1][1] += "\n" + line[1:]
    stmts = []
    for kind, body in entries:
        if kind == "LOG":
            m = re.match(r"(?s)(?:statement|execute [^:]+): (.*)$", body)
            if m:
                stmts.append([m.group(1).strip(), {}])
        elif kind == "DETAIL" and body.startswith("parameters: ") and stmts:
            for k, v in re.findall(r"\$(\d+) = (NULL|'(?:[^']|'')*')", body):
                stmts[-1][1][k] = v
        elif kind in ("ERROR", "FATAL"):
            sys.exit("a captured search failed in SQL: " + body)
    return stmts


def capture(kind):
    psql("ALTER SYSTEM SET log_statement = 'all'")
    psql("SELECT pg_reload_conf()")
    time.sleep(1)
    scripts = []
    for n, q in enumerate(QUERIES[kind][:REPLAYS]):
        off = os.path.getsize(PGLOG)
        search(q)
        time.sleep(0.05)
        with open(PGLOG, encoding="utf-8", errors="replace") as f:
            f.seek(off)
            text = "\n".join(l for l in f.read().split("\n") if "app=psql" not in l)
        lines = []
        for sql, params in parse_log(text):
            body = re.sub(r"\$(\d+)\b", lambda m: params.get(m.group(1), "NULL"), sql)
            body = " ".join(body.rstrip().rstrip(";").split()) + ";"
            # The pool's checkout ping (db::Manager): these requests are 50 ms apart, so their
            # connection was idle and pinged; under the measured load it is not.
            if body == "SELECT 1;":
                continue
            lines.append(body)
        path = os.path.join(TMP, "replay-%s-%03d.sql" % (kind, n))
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        scripts.append(path)
    psql("ALTER SYSTEM RESET log_statement")
    psql("SELECT pg_reload_conf()")
    with open(scripts[0]) as f:
        statements = [l[:160] for l in f.read().splitlines()]
    return scripts, statements


def run_pgbench(kind, scripts, conns, seconds, tag, mode="prepared"):
    prefix = os.path.join(TMP, "pgblog-%s-%s" % (kind, tag))
    args = [PGBENCH, PGURL, "-n", "-M", mode, "-c", str(conns), "-j", str(min(conns, 2)),
            "-T", str(seconds)]
    if tag != "warmup":
        args += ["-l", "--log-prefix=" + prefix]
    for s in scripts:
        args += ["-f", s + "@1"]
    out = subprocess.run(args, capture_output=True, text=True, cwd=TMP, timeout=seconds + 120)
    if out.returncode != 0:
        sys.exit("pgbench failed:\n" + out.stdout + out.stderr)
    if tag == "warmup":
        return None
    lat = []
    for name in os.listdir(TMP):
        if name.startswith(os.path.basename(prefix) + "."):
            with open(os.path.join(TMP, name)) as f:
                lat += [int(l.split()[2]) for l in f if l.strip()]
    tps = float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))
    return {"transactions": len(lat), "per_s": round(tps, 1), "p50_ms": pct(lat, 50) / 1000,
            "p95_ms": pct(lat, 95) / 1000, "p99_ms": pct(lat, 99) / 1000, "max_ms": max(lat) / 1000}


# ------------------------------------------------------------------------------------------------
# Before: the search statement of the code this replaced (one `sql_query`, OR of two pg_trgm
# conditions, the DOB only in the score), for the same queries, replayed by pgbench as that code
# sent it (an unnamed statement, parsed and planned each time: -M extended; JIT at its default),
# over the trigram indexes it used (rebuilt for this phase).
FULL = "('helpdesk', 'creating_agency', 'statewide_roi', 'contributor', 'ce_assessor')"


def lit(v):
    return "'" + str(v).replace("'", "''") + "'"


def old_sql(q, basis):
    conds = []  # (condition, score, label)
    pii = False
    if "client_id" in q:
        conds.append(("c.id = %s" % lit(q["client_id"]), "1.0", "client_id"))
    if "short_uid" in q:
        conds.append(("c.short_uid = %s" % lit(q["short_uid"].upper()), "1.0", "short_uid"))
    if "ssn" in q:
        pii = True
        if len(q["ssn"]) == 9:
            conds.append(("c.ssn = %s" % lit(q["ssn"]), "1.0", "ssn"))
        else:
            conds.append(("(right(c.ssn, 4) = %s AND c.dob = %s)" % (lit(q["ssn"]), lit(q["dob"])),
                          "0.95", "ssn_last4_dob"))
    if "first_name" in q:
        pii = True
        f, l = lit(q["first_name"].lower()), lit(q["last_name"].lower())
        bonus = "CASE WHEN c.dob = %s THEN 0.25 ELSE 0 END" % lit(q["dob"]) if "dob" in q else "0"
        conds.append(("(lower(c.first_name) %% %s OR lower(c.last_name) %% %s)" % (f, l),
                      "LEAST(1.0, (coalesce(similarity(lower(c.first_name), %s), 0) + coalesce(similarity("
                      "lower(c.last_name), %s), 0)) / 2.0 * 0.75 + %s)" % (f, l, bonus), "name"))
    reach = "x.basis IN %s" % FULL if pii else "x.basis IS NOT NULL"
    score = ", ".join("CASE WHEN %s THEN %s ELSE 0 END" % (c, s) for c, s, _ in conds)
    labels = ", ".join("CASE WHEN %s THEN '%s' END" % (c, l) for c, _, l in conds)
    return ("SELECT x.id, x.basis, x.score, x.matched_on FROM (SELECT c.id, %s AS basis, GREATEST(%s)::float8 "
            "AS score, concat_ws(',', %s) AS matched_on FROM clients c WHERE c.lifecycle <> 'merged' AND (%s)) x "
            "WHERE %s ORDER BY x.score DESC, x.id LIMIT 20;" % (basis, score, labels, " OR ".join(c for c, _, _ in conds), reach))


def before(basis):
    log("before: rebuilding the trigram indexes the replaced search used")
    psql("SET maintenance_work_mem = '512MB'; "
         "CREATE INDEX IF NOT EXISTS bench_first_trgm ON clients USING gin (lower(first_name) gin_trgm_ops); "
         "CREATE INDEX IF NOT EXISTS bench_last_trgm ON clients USING gin (lower(last_name) gin_trgm_ops); "
         "ANALYZE clients")
    out = {}
    for kind in KINDS:
        scripts = []
        for n, q in enumerate(QUERIES[kind][:REPLAYS]):
            path = os.path.join(TMP, "before-%s-%03d.sql" % (kind, n))
            with open(path, "w") as f:
                f.write(old_sql(q, basis) + "\n")
            scripts.append(path)
        for c in CONCURRENCY:
            log("before, pgbench %s: %ds at %d concurrent" % (kind, DURATION, c))
            out["%s@%d" % (kind, c)] = run_pgbench(kind, scripts, c, DURATION, "before%d" % c, "extended")
            log("  %s" % out["%s@%d" % (kind, c)])
    psql("DROP INDEX bench_first_trgm, bench_last_trgm")
    return out


def recall():
    per = {}
    by_kind = {}
    for kind, orig, f, l, d in dups:
        by_kind.setdefault(kind, []).append((orig, f, l, d))
    for kind in sorted(by_kind):
        sample = by_kind[kind][:RECALL_N]
        r = {"n": len(sample), "name_dob": 0, "name": 0, "name_truncated": 0}
        for orig, f, l, d in sample:
            a = search({"first_name": f, "last_name": l, "dob": d, "limit": TOP})
            r["name_dob"] += any(h["client"]["id"] == orig for h in a["items"])
            b = search({"first_name": f, "last_name": l, "limit": TOP})
            r["name"] += any(h["client"]["id"] == orig for h in b["items"])
            r["name_truncated"] += bool(b.get("truncated"))
        for k in ("name_dob", "name"):
            r[k] = round(r[k] / r["n"], 3)
        per[kind] = r
    total = sum(r["n"] for r in per.values())
    overall = {k: round(sum(r[k] * r["n"] for r in per.values()) / total, 3) for k in ("name_dob", "name")}
    return per, overall


def main():
    result = {"hearth": {}, "pgbench": {}, "statements": {}}
    for kind in KINDS:
        for c in CONCURRENCY:
            log("hearth %s: warm-up %ds, then %ds at %d concurrent" % (kind, WARMUP, DURATION, c))
            run_wrk(kind, c, WARMUP)
            result["hearth"]["%s@%d" % (kind, c)] = run_wrk(kind, c, DURATION)
            log("  %s" % result["hearth"]["%s@%d" % (kind, c)])
    for kind in KINDS:
        log("capturing the SQL of %d %s searches" % (REPLAYS, kind))
        scripts, statements = capture(kind)
        result["statements"][kind] = statements
        for c in CONCURRENCY:
            log("pgbench %s: warm-up %ds, then %ds at %d concurrent" % (kind, WARMUP, DURATION, c))
            run_pgbench(kind, scripts, c, WARMUP, "warmup")
            result["pgbench"]["%s@%d" % (kind, c)] = run_pgbench(kind, scripts, c, DURATION, str(c))
            log("  %s" % result["pgbench"]["%s@%d" % (kind, c)])
    if os.environ.get("BENCH_BEFORE", "1") == "1":
        with open(os.path.join(TMP, "replay-exact-000.sql")) as f:
            m = re.search(r"SELECT c\.id, (\(CASE .*? END\)) AS basis FROM clients c", f.read())
        result["before_pgbench"] = before(m.group(1))
    log("recall: %d duplicates per error kind, name + DOB and name alone, original in the top %d"
        % (RECALL_N, TOP))
    result["recall"], result["recall_overall"] = recall()
    result["ratio_hearth_to_pgbench"] = {
        k: round(result["hearth"][k]["per_s"] / result["pgbench"][k]["per_s"], 3) for k in result["hearth"]}
    with open(OUT, "w") as f:
        json.dump(result, f, indent=2)
    print()
    print("%-14s %8s %8s %8s %8s | %8s %8s %8s %8s | %6s" % (
        "query@callers", "req/s", "p50", "p95", "p99", "pgb tx/s", "p50", "p95", "p99", "ratio"))
    for k in result["hearth"]:
        h, p = result["hearth"][k], result["pgbench"][k]
        print("%-14s %8.1f %8.2f %8.2f %8.2f | %8.1f %8.2f %8.2f %8.2f | %6.3f" % (
            k, h["per_s"], h["p50_ms"], h["p95_ms"], h["p99_ms"], p["per_s"], p["p50_ms"], p["p95_ms"],
            p["p99_ms"], result["ratio_hearth_to_pgbench"][k]))
    if "before_pgbench" in result:
        print()
        print("before (the replaced search statement, pgbench -M extended): tx/s, p50, p95, p99 ms")
        for k, b in result["before_pgbench"].items():
            print("  %-14s %8.1f %8.2f %8.2f %8.2f" % (k, b["per_s"], b["p50_ms"], b["p95_ms"], b["p99_ms"]))
    print()
    print("recall (original in the top %d)   name+DOB   name alone   name alone truncated" % TOP)
    for kind, r in result["recall"].items():
        print("  %-26s %9.3f %12.3f %12d/%d" % (kind, r["name_dob"], r["name"], r["name_truncated"], r["n"]))
    print("  %-26s %9.3f %12.3f" % ("all", result["recall_overall"]["name_dob"], result["recall_overall"]["name"]))
    errors = sum(h["non_2xx"] + h["socket_errors"] for h in result["hearth"].values())
    print("hearth non-2xx or socket errors: %d" % errors)
    log("wrote %s" % OUT)
    if errors:
        sys.exit(1)


main()
