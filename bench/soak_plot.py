"""Renders bench:soak's CSV (bench/soak.ts) as a PNG: RSS per process, consumer lag and watermark lag per group."""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(csv_path: str, png_path: str) -> None:
    rss = defaultdict(list)
    lag = defaultdict(list)
    wm = defaultdict(list)
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            t = float(row["elapsed_s"]) / 60
            series = row["series"]
            if row["rss_mb"]:
                rss[series].append((t, float(row["rss_mb"])))
            if series.startswith("group:"):
                if row["lag"]:
                    lag[series[6:]].append((t, float(row["lag"])))
                if row["watermark_lag_s"]:
                    wm[series[6:]].append((t, float(row["watermark_lag_s"])))
    fig, axes = plt.subplots(3, 1, figsize=(11, 11), sharex=True)
    for ax, data, title, unit in (
        (axes[0], rss, "RSS per process", "MB"),
        (axes[1], lag, "consumer lag per group", "records"),
        (axes[2], wm, "watermark lag behind the wall clock", "s"),
    ):
        for name, points in sorted(data.items()):
            ax.plot([p[0] for p in points], [p[1] for p in points], label=name, linewidth=1, marker=".", markersize=3)
        ax.set_title(title)
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=3, loc="upper left")
    axes[2].set_xlabel("minutes")
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
