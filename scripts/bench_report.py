#!/usr/bin/env python3
"""Turns docs/bench/results.json (written by scripts/bench.sh) into docs/bench/table.md and
docs/bench/msgs_per_s.svg, a grouped bar chart of echo messages per server CPU-second by
scenario and server, drawn as plain SVG (no plotting library).

    python3 scripts/bench_report.py [results.json]

The outputs are written beside the results file.
"""

import html
import json
import math
import os
import sys

ORDER = ["ours", "uws", "fastwebsockets", "tokio-tungstenite", "ws"]
LABELS = {
    "ours": "rfc6455",
    "uws": "uWS.js",
    "fastwebsockets": "fastwebsockets",
    "tokio-tungstenite": "tokio-tungstenite",
    "ws": "Node ws",
}
COLORS = {
    "ours": "#d9480f",
    "uws": "#1c7ed6",
    "fastwebsockets": "#37b24d",
    "tokio-tungstenite": "#7048e8",
    "ws": "#868e96",
}


def label(name):
    return LABELS.get(name, name)


def size_text(size):
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def scenario_text(s):
    return f"{s['connections']} × {size_text(s['size'])} × {s['in_flight']}"


def number(value):
    if value is None:
        return "–"
    if value >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def short(value):
    """1234567 -> 1.23M, for labels on bars."""
    for suffix, scale in (("M", 1e6), ("k", 1e3)):
        if value >= scale:
            v = value / scale
            return f"{v:.3g}{suffix}"
    return f"{value:.3g}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    r = a / b
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


def echo_value(entry, key, field):
    run = (entry or {}).get("echo", {}).get(key)
    if not run or "error" in run:
        return None
    return run.get(field)


def cell_note(entry, key):
    run = (entry or {}).get("echo", {}).get(key)
    if run is None:
        return "–"
    if "error" in run:
        return "failed"
    return None


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join([" --- "] + [" ---: "] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results):
    servers = [n for n in ORDER if n in results["servers"]] + [
        n for n in results["servers"] if n not in ORDER]
    entries = results["servers"]
    scenarios = [s for s in results["scenarios"]
                 if any(s["key"] in entries[n].get("echo", {}) for n in servers)]
    machine, settings = results["machine"], results["settings"]
    ratio_pairs = [(a, b) for a, b in (("ours", "uws"), ("ours", "tokio-tungstenite"))
                   if a in entries and b in entries]
    out = ["# Echo and broadcast benchmark", ""]
    out.append(
        f"Measured {machine.get('date')} by `scripts/bench.sh`"
        f"{' --quick (one short run per scenario: a smoke test, not a result)' if settings.get('quick') else ''}"
        f" on {machine.get('nproc')} cores ({machine.get('cpu_model')}), Linux "
        f"{machine.get('kernel')}, {machine.get('rustc')}, Node {machine.get('node')}. "
        f"Each server runs on core {settings.get('server_core')} and the load generator "
        f"(`benches/load`) on core {settings.get('client_core')}, over 127.0.0.1; "
        f"{settings.get('runs')} run(s) of {settings.get('seconds'):g} s after "
        f"{settings.get('warmup'):g} s of warm-up per scenario, the median run kept.")
    out.append("")
    out.append("Servers: " + ", ".join(
        f"{label(n)} ({entries[n].get('version') or '?'})" for n in servers) + ".")
    out.append("")
    out.append("Scenarios are connections × message size × messages in flight per "
               "connection; every message is echoed back and checked.")
    out.append("")

    def row_for(s, field, fmt=number):
        row = [scenario_text(s)]
        for n in servers:
            note = cell_note(entries[n], s["key"])
            row.append(note if note else fmt(echo_value(entries[n], s["key"], field)))
        for a, b in ratio_pairs:
            row.append(ratio(echo_value(entries[a], s["key"], field),
                             echo_value(entries[b], s["key"], field)))
        return row

    ratio_header = [f"{label(a)} / {label(b)}" for a, b in ratio_pairs]
    header = ["scenario"] + [label(n) for n in servers] + ratio_header

    out += ["## Messages per server CPU-second (higher is better)", ""]
    rows = [row_for(s, "msgs_per_server_cpu_s") for s in scenarios]

    def idle_value(n):
        idle = entries[n].get("idle") or {}
        return None if "error" in idle else idle.get("server_rss_per_connection")

    if any("idle" in entries[n] for n in servers):
        row = ["idle: server RSS per connection, bytes (lower is better)"]
        for n in servers:
            idle = entries[n].get("idle")
            row.append("–" if idle is None else "failed" if "error" in idle
                       else number(idle_value(n)))
        row += [ratio(idle_value(a), idle_value(b)) for a, b in ratio_pairs]
        rows.append(row)
    out += [table(header, rows), ""]

    out += ["## Messages per second, wall clock (the load generator has one core too)", ""]
    out += [table(header, [row_for(s, "msgs_per_s") for s in scenarios]), ""]

    out += ["## Latency p50 / p99, µs", ""]
    rows = []
    for s in scenarios:
        row = [scenario_text(s)]
        for n in servers:
            note = cell_note(entries[n], s["key"])
            p50 = echo_value(entries[n], s["key"], "p50_us")
            p99 = echo_value(entries[n], s["key"], "p99_us")
            row.append(note if note else f"{number(p50)} / {number(p99)}")
        rows.append(row)
    out += [table(["scenario"] + [label(n) for n in servers], rows), ""]

    if any("idle" in entries[n] for n in servers):
        out += ["## Idle connections", ""]
        rows = []
        for n in servers:
            idle = entries[n].get("idle")
            if idle is None:
                continue
            if "error" in idle:
                rows.append([label(n), "failed: " + idle["error"], "", "", ""])
                continue
            rows.append([label(n), number(idle.get("connections")),
                         number((idle.get("server_rss_before") or 0) / 2**20),
                         number((idle.get("server_rss_after") or 0) / 2**20),
                         number(idle.get("server_rss_per_connection"))])
        out += [table(["server", "connections", "RSS before, MiB", "RSS after, MiB",
                       "bytes per connection"], rows), ""]

    if any("broadcast" in entries[n] for n in servers):
        out += ["## Broadcast: 1 publisher, subscribers on one server", ""]
        rows = []
        for n in servers:
            b = entries[n].get("broadcast")
            if b is None:
                continue
            if "error" in b or "skipped" in b:
                reason = b.get("error") or b.get("skipped")
                rows.append([label(n), "–", "–", "–",
                             ("failed: " if "error" in b else "not measured: ") + reason])
                continue
            rows.append([label(n), number(b.get("subscribers")), number(b.get("size")),
                         number(b.get("deliveries_per_s")),
                         number(b.get("deliveries_per_server_cpu_s"))])
        out += [table(["server", "subscribers", "message bytes", "deliveries/s",
                       "deliveries per server CPU-second"], rows), ""]

    failures = []
    for n in servers:
        for key, run in sorted(entries[n].get("echo", {}).items()):
            if "error" in run:
                failures.append(f"- {label(n)} {key}: failed: {run['error']}")
            elif "failed_runs" in run:
                failures.append(f"- {label(n)} {key}: {run['failed_runs']}")
    if failures:
        out += ["## Failures", ""] + failures + [""]
    out.append("The chart: [msgs_per_s.svg](msgs_per_s.svg).")
    return "\n".join(out) + "\n"


def svg(results):
    entries = results["servers"]
    servers = [n for n in ORDER if n in entries] + [n for n in entries if n not in ORDER]
    scenarios = [s for s in results["scenarios"]
                 if any(echo_value(entries[n], s["key"], "msgs_per_server_cpu_s")
                        for n in servers)]
    values = [echo_value(entries[n], s["key"], "msgs_per_server_cpu_s")
              for s in scenarios for n in servers]
    values = [v for v in values if v]
    width, height = 1200, 560
    left, right, top, bottom = 80, 20, 90, 90
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="26" font-size="18" text-anchor="middle" font-weight="bold">'
        'Echo: messages per server CPU-second (log scale, higher is better)</text>',
    ]
    machine, settings = results["machine"], results["settings"]
    subtitle = (f"{machine.get('cpu_model')}, server on core {settings.get('server_core')}, "
                f"load generator on core {settings.get('client_core')}, "
                f"{machine.get('date')}" + (" (quick smoke run)" if settings.get("quick") else ""))
    parts.append(f'<text x="{width / 2}" y="46" font-size="12" text-anchor="middle" '
                 f'fill="#555">{html.escape(subtitle)}</text>')
    # Legend.
    x = left
    for n in servers:
        parts.append(f'<rect x="{x}" y="60" width="14" height="14" fill="{COLORS.get(n, "#333")}"/>')
        parts.append(f'<text x="{x + 20}" y="72" font-size="13">{html.escape(label(n))}</text>')
        x += 40 + 8 * len(label(n))
    if not values:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" font-size="16" '
                     'text-anchor="middle">no echo results</text></svg>')
        return "\n".join(parts) + "\n"

    def steps():  # 1, 2, 5, 10, 20, 50, ...
        for e in range(-1, 12):
            for m in (1, 2, 5):
                yield m * 10 ** e

    lo = max(s for s in steps() if s <= min(values) / 1.2)
    hi = min(s for s in steps() if s >= max(values) * 1.5)  # room for the labels
    span = math.log10(hi) - math.log10(lo)

    def y_of(v):
        return top + plot_h - (math.log10(v) - math.log10(lo)) / span * plot_h

    # Grid: decades solid, 2× and 5× dashed.
    for v in steps():
        if lo <= v <= hi:
            m = round(v / 10 ** math.floor(math.log10(v) + 1e-9))
            y = y_of(v)
            dash = '' if m == 1 else ' stroke-dasharray="3,3"'
            parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                         f'stroke="#ddd"{dash}/>')
            parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" '
                         f'text-anchor="end" fill="#444">{short(v)}</text>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
                 f'y2="{top + plot_h}" stroke="#333"/>')
    parts.append(f'<text x="18" y="{top + plot_h / 2}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 18 {top + plot_h / 2})">messages per server CPU-second'
                 '</text>')

    group_w = plot_w / len(scenarios)
    bar_w = min(28.0, group_w * 0.8 / len(servers))
    for i, s in enumerate(scenarios):
        gx = left + i * group_w + (group_w - bar_w * len(servers)) / 2
        for j, n in enumerate(servers):
            v = echo_value(entries[n], s["key"], "msgs_per_server_cpu_s")
            bx = gx + j * bar_w
            if not v:
                parts.append(f'<text x="{bx + bar_w / 2:.1f}" y="{top + plot_h - 4}" '
                             'font-size="10" text-anchor="middle" fill="#c00">×</text>')
                continue
            y = y_of(v)
            parts.append(f'<rect x="{bx + 1:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" '
                         f'height="{top + plot_h - y:.1f}" fill="{COLORS.get(n, "#333")}">'
                         f'<title>{html.escape(label(n))}, {html.escape(scenario_text(s))}: '
                         f'{v:,.0f}</title></rect>')
            tx, ty = bx + bar_w / 2 + 3, y - 4
            parts.append(f'<text x="{tx:.1f}" y="{ty:.1f}" font-size="9" fill="#333" '
                         f'transform="rotate(-90 {tx:.1f} {ty:.1f})">{short(v)}</text>')
        cx = left + (i + 0.5) * group_w
        parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 18}" font-size="11" '
                     f'text-anchor="middle">{s["connections"]} × {size_text(s["size"])}</text>')
        parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 33}" font-size="11" '
                     f'text-anchor="middle" fill="#555">{s["in_flight"]} in flight</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 22}" font-size="12" '
                 'text-anchor="middle">connections × message size, messages in flight per '
                 'connection</text>')
    parts.append('</svg>')
    return "\n".join(parts) + "\n"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "docs/bench/results.json"
    with open(path) as f:
        results = json.load(f)
    directory = os.path.dirname(path) or "."
    with open(os.path.join(directory, "table.md"), "w") as f:
        f.write(markdown(results))
    with open(os.path.join(directory, "msgs_per_s.svg"), "w") as f:
        f.write(svg(results))
    print(f"wrote {os.path.join(directory, 'table.md')} and "
          f"{os.path.join(directory, 'msgs_per_s.svg')}")


if __name__ == "__main__":
    main()
