#!/usr/bin/env python3
"""Summarise criterion's output for docs/performance.md: a Markdown table and an SVG chart.

Usage: python3 docs/perf/report.py [target/criterion] [--svg docs/perf/parse.svg]
                                   [--group-prefix parse] [--summary]

Reads every <group>/<function>/new/{benchmark,estimates}.json under the criterion folder,
takes the median time per iteration and the bytes per iteration, and prints, per group, each
function's MB/s, its ratio to the fastest peer (any function other than sse-proto and the
baselines) and to the memchr2 scan. Standard library only, so it runs anywhere Python does.
"""
import json
import os
import sys
from collections import defaultdict

OURS = "sse-proto"
BASELINES = {"memchr2-scan", "extend-baseline", "memcpy"}


def load(root, prefix):
    groups = defaultdict(dict)
    for group_dir in sorted(os.listdir(root)):
        if not os.path.isdir(os.path.join(root, group_dir)):
            continue
        for function in sorted(os.listdir(os.path.join(root, group_dir))):
            base = os.path.join(root, group_dir, function, "new")
            meta_path = os.path.join(base, "benchmark.json")
            est_path = os.path.join(base, "estimates.json")
            if not (os.path.exists(meta_path) and os.path.exists(est_path)):
                continue
            meta = json.load(open(meta_path))
            if not meta["group_id"].startswith(prefix):
                continue
            median_ns = json.load(open(est_path))["median"]["point_estimate"]
            throughput = meta.get("throughput") or {}
            size = throughput.get("Bytes") or throughput.get("BytesDecimal") or 0
            elements = throughput.get("Elements", 0)
            name = meta["value_str"] or meta["function_id"]
            groups[meta["group_id"]][name] = (median_ns, size, elements)
    return groups


def side(root, name):
    path = os.path.join(root, name)
    return json.load(open(path)) if os.path.exists(path) else {}


def summarise(groups, events_per_group=None, allocations=None):
    events_per_group = events_per_group or {}
    allocations = allocations or {}
    rows = []
    for group, functions in groups.items():
        if OURS not in functions:
            continue
        peers = {n: v for n, v in functions.items()
                 if not n.startswith(OURS) and n not in BASELINES}
        fastest = min(peers.items(), key=lambda kv: kv[1][0]) if peers else None
        scan = functions.get("memchr2-scan")
        for name, (ns, size, elements) in sorted(functions.items(), key=lambda kv: kv[1][0]):
            mbps = size / ns * 1e3 if size else None
            vs_peer = fastest[1][0] / ns if fastest else None
            vs_scan = scan[0] / ns if scan else None
            events = events_per_group.get(group)
            events_per_s = events / ns * 1e9 if events else None
            corpus = group.split("/")[1] if group.count("/") >= 2 else None
            alloc = allocations.get(f"{corpus}/{name}", {}).get("allocs_per_event")
            rows.append((group, name, ns, mbps, events_per_s, vs_peer, vs_scan,
                         fastest[0] if fastest else "-", alloc))
    return rows


def markdown(rows):
    out = ["| group | implementation | median | MB/s | Mevents/s | allocs/event (4 KiB chunks) "
           "| x fastest peer | x memchr2 scan |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for group, name, ns, mbps, events_per_s, vs_peer, vs_scan, _fastest, alloc in rows:
        shown = f"**{name}**" if name.startswith(OURS) else name
        median = f"{ns / 1e6:.3f} ms" if ns >= 1e5 else f"{ns / 1e3:.2f} µs"
        out.append("| {} | {} | {} | {} | {} | {} | {} | {} |".format(
            group, shown, median,
            f"{mbps:,.0f}" if mbps else "-",
            f"{events_per_s / 1e6:.2f}" if events_per_s else "-",
            f"{alloc:.3f}" if alloc is not None else "-",
            f"{vs_peer:.2f}" if vs_peer else "-",
            f"{vs_scan:.2f}" if vs_scan else "-"))
    return "\n".join(out)


def summary(rows):
    """One line per group: each sse-proto entry point against the fastest peer and the scan."""
    by_group = {}
    for row in rows:
        by_group.setdefault(row[0], []).append(row)
    ours_names = sorted({r[1] for r in rows if r[1].startswith(OURS)})
    header = ["group"]
    for name in ours_names:
        header += [f"{name} MB/s", f"{name} x peer"]
    header += ["fastest peer", "its MB/s", f"{OURS} Mevents/s", f"{OURS} allocs/event",
               f"best x memchr2 scan"]
    out = ["| " + " | ".join(header) + " |",
           "| --- |" + " ---: |" * (len(header) - 1)]
    for group, group_rows in by_group.items():
        ours = {r[1]: r for r in group_rows if r[1].startswith(OURS)}
        if OURS not in ours:
            continue
        main = ours[OURS]
        fastest = main[7]
        peer = next((r for r in group_rows if r[1] == fastest), None)
        cells = [group]
        for name in ours_names:
            r = ours.get(name)
            cells += [f"{r[3]:,.0f}" if r and r[3] else "-",
                      f"**{r[5]:.2f}**" if r and r[5] else "-"]
        best_scan = max((r[6] for r in ours.values() if r[6]), default=None)
        cells += [fastest,
                  f"{peer[3]:,.0f}" if peer and peer[3] else "-",
                  f"{main[4] / 1e6:.2f}" if main[4] else "-",
                  f"{main[8]:.3f}" if main[8] is not None else "-",
                  f"{best_scan:.2f}" if best_scan else "-"]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def svg(groups, path):
    """Horizontal bars of MB/s per group: sse-proto, every peer, the scan."""
    palette = {OURS: "#d62728", "sse-proto-slices": "#ff7f0e", "sse-proto-build": "#ff7f0e",
               "sse-proto-ref": "#8b0000",
               "memchr2-scan": "#7f7f7f", "extend-baseline": "#7f7f7f"}
    others = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
    names = sorted({n for f in groups.values() for n in f})
    colour = {}
    for n in names:
        colour[n] = palette.get(n) or others[len([c for c in colour if c not in palette]) % len(others)]
    bar_h, gap, label_w, plot_w = 11, 14, 190, 560
    height = 40
    for functions in groups.values():
        height += len(functions) * bar_h + gap + 16
    height += 20 * ((len(names) + 2) // 3)
    best = max((size / ns * 1e3) for f in groups.values() for ns, size, _ in f.values() if size)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 120}" height="{height}" '
             'font-family="sans-serif" font-size="11">',
             f'<text x="8" y="18" font-size="14" font-weight="bold">Throughput, MB/s (median; longer is faster)</text>']
    y = 36
    for group, functions in groups.items():
        parts.append(f'<text x="8" y="{y + 10}" font-weight="bold">{group}</text>')
        y += 16
        for name, (ns, size, _) in sorted(functions.items(), key=lambda kv: kv[1][0]):
            mbps = size / ns * 1e3
            w = max(1, plot_w * mbps / best)
            parts.append(f'<text x="{label_w - 6}" y="{y + bar_h - 2}" text-anchor="end">{name}</text>')
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" fill="{colour[name]}"/>')
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 2}">{mbps:,.0f}</text>')
            y += bar_h
        y += gap
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def main(argv):
    root = "target/criterion"
    svg_path = None
    prefix = ""
    want_summary = False
    args = iter(argv)
    for arg in args:
        if arg == "--svg":
            svg_path = next(args)
        elif arg == "--group-prefix":
            prefix = next(args)
        elif arg == "--summary":
            want_summary = True
        else:
            root = arg
    groups = load(root, prefix)
    rows = None
    if not groups:
        sys.exit(f"no criterion results under {root} (run cargo bench first)")
    rows = summarise(groups, side(root, "sse-events.json"), side(root, "sse-allocations.json"))
    print(summary(rows) if want_summary else markdown(rows))
    if svg_path:
        svg(groups, svg_path)
        print(f"\nchart written to {svg_path}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
