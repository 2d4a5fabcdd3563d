"""CI check of the example (examples/python/run.sh): the DataFrames from the topic and from the lake
hold the expected windows, in FEATURE_NAMES order, and every value equals optflow's own decoding
(`optflow inspect features`, JSON lines) of the same topic."""

from __future__ import annotations

import argparse
import json
import math
import sys
import uuid

import pandas as pd

from features_frame import KEY, WINDOW_COLUMNS, feature_names, from_kafka, from_lake



def inspected(path: str) -> dict[tuple, dict]:
    """Latest record per window from `optflow inspect` output (ns values are exact JSON integers)."""
    latest: dict[tuple, tuple[int, int, int, dict]] = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r.get("value") is None:
                continue
            v = r["value"]
            k = tuple(v[c] for c in KEY)
            at = (v.get("generation", 0), r["partition"], r["offset"])  # the highest generation wins
            if k not in latest or at > latest[k][:3]:
                latest[k] = (*at, v)
    return {k: v for k, (_, _, _, v) in latest.items()}


def same(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return a == b


def check(frame: pd.DataFrame, source: str, names: list[str], reference: dict[tuple, dict], expect: int) -> None:
    assert list(frame.columns) == WINDOW_COLUMNS + names, f"{source}: columns are not window columns + FEATURE_NAMES"
    assert len(frame) == expect, f"{source}: {len(frame)} windows, expected {expect}"
    keys = {tuple(row) for row in frame[KEY].itertuples(index=False)}
    assert keys == set(reference), f"{source}: windows differ from the topic's ({len(keys ^ set(reference))} differ)"
    for row in frame.to_dict("records"):
        ref = reference[tuple(row[c] for c in KEY)]
        for column in ["window_end_ns", *names]:
            value = row[column].item() if hasattr(row[column], "item") else row[column]
            assert same(value, ref[column]), f"{source} {row['window']} {row['window_start_ns']} {column}: {value!r} != {ref[column]!r}"
    print(f"{source}: {len(frame)} windows ({frame.groupby('window').size().to_dict()}), {len(names)} features in order, every value equals the topic's")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inspect", required=True, help="output of `optflow inspect features --limit N`")
    parser.add_argument("--expect-windows", type=int, required=True)
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--registry", default="http://127.0.0.1:18081")
    parser.add_argument("--topic", default="features")
    parser.add_argument("--lake", default="data")
    args = parser.parse_args(argv)
    names = feature_names()
    reference = inspected(args.inspect)
    assert len(reference) == args.expect_windows, f"the topic holds {len(reference)} windows, expected {args.expect_windows}"
    group = f"example.check.{uuid.uuid4().hex[:8]}"  # a new group reads from the earliest offset
    check(from_kafka(args.bootstrap, args.registry, args.topic, group, names), "kafka", names, reference, args.expect_windows)
    check(from_lake(args.lake, names), "lake", names, reference, args.expect_windows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
