"""Features for Python models: the `features` topic and the Parquet lake as pandas DataFrames.

Columns: underlying, window, window_start_ns, window_end_ns, then FEATURE_NAMES in the user's order
(feature_names.txt, the output of `npx optflow features names`). One row per window: the topic's key
is the window (underlying|window|window_start_ns) and every record carries the `generation` of the run
that wrote it (`optflow reprocess` bumps it; a plain `reset` re-run writes the same generation again),
so the latest version is the highest generation, then the highest offset. The lake holds one version
per partition directory already (a newer generation replaces the directory); the same rule applies.

    python features_frame.py kafka --bootstrap 127.0.0.1:19092 --registry http://127.0.0.1:18081
    python features_frame.py lake --lake data
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

HERE = Path(__file__).resolve().parent
KEY = ["underlying", "window", "window_start_ns"]
WINDOW_COLUMNS = KEY + ["window_end_ns"]


def feature_names(path: Path = HERE / "feature_names.txt") -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def ordered(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Window columns, then the features in FEATURE_NAMES order; the latest version of each window."""
    latest = frame.sort_values(["generation", "_partition", "_offset"]).drop_duplicates(KEY, keep="last")
    latest = latest.sort_values(KEY).reset_index(drop=True)
    return latest[WINDOW_COLUMNS + names]


def end_offsets(consumer: Consumer, topic: str) -> dict[int, int]:
    """The high watermark of every partition now: reading stops there (a snapshot, not a stream)."""
    metadata = consumer.list_topics(topic, timeout=10)
    ends = {}
    for p in metadata.topics[topic].partitions:
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        ends[p] = high
    return ends


def from_kafka(bootstrap: str, registry: str, topic: str, group: str, names: list[str], timeout_s: float = 60) -> pd.DataFrame:
    """Reads `topic` from the group's committed position (earliest for a new group) to its current end."""
    deserialize = AvroDeserializer(SchemaRegistryClient({"url": registry}))
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "isolation.level": "read_committed",  # only records of committed transactions
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    rows: list[dict] = []
    try:
        ends = end_offsets(consumer, topic)
        consumer.subscribe([topic])
        done = {p for p, high in ends.items() if high == 0}
        deadline = time.monotonic() + timeout_s
        while len(done) < len(ends) and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                done |= caught_up(consumer, topic, ends)
                continue
            if msg.error():
                raise RuntimeError(msg.error())
            if msg.offset() + 1 >= ends[msg.partition()]:
                done.add(msg.partition())
            if not msg.value():  # a producer's watermark marker: no value
                continue
            record = deserialize(msg.value(), SerializationContext(topic, MessageField.VALUE))
            # records written before the field existed decode without it: generation 0
            rows.append({"generation": 0, **record, "_partition": msg.partition(), "_offset": msg.offset()})
        if len(done) < len(ends):
            raise TimeoutError(f"{topic}: not at the end after {timeout_s} s")
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return ordered(pd.DataFrame(rows, columns=WINDOW_COLUMNS + names + ["generation", "_partition", "_offset"]), names)


def caught_up(consumer: Consumer, topic: str, ends: dict[int, int]) -> set[int]:
    """Partitions whose position reached the end (a trailing transaction marker is never delivered)."""
    assigned = consumer.assignment()
    if not assigned:
        return set()
    positions = consumer.position(assigned)
    return {tp.partition for tp in positions if tp.topic == topic and tp.offset >= ends.get(tp.partition, 0)}


FILE_NAME = re.compile(r"\+(\d+)\+(\d+)(?:\+g\d+)?\.parquet$")  # <topic>+<partition>+<first offset>[+g<generation>]


def from_lake(lake: str, names: list[str], topic: str = "features") -> pd.DataFrame:
    """Reads <lake>/<topic> (Hive partitions dt/underlying/window) with pyarrow.dataset."""
    dataset = ds.dataset(str(Path(lake) / topic), format="parquet", partitioning="hive")
    frames = []
    for fragment in dataset.get_fragments():
        partition, first_offset = map(int, FILE_NAME.search(fragment.path).groups())
        table = fragment.to_table(schema=dataset.schema)
        frame = table.to_pandas()
        frame["_partition"], frame["_offset"] = partition, first_offset
        if "generation" not in frame:  # files written before the field existed
            frame["generation"] = 0
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    for column in ("underlying", "window"):  # Hive partition columns come back as categories
        frame[column] = frame[column].astype(str)
    return ordered(frame, names)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", choices=["kafka", "lake"])
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--registry", default="http://127.0.0.1:18081")
    parser.add_argument("--topic", default="features")
    parser.add_argument("--group", default="example.features-frame")
    parser.add_argument("--lake", default="data")
    args = parser.parse_args(argv)
    names = feature_names()
    if args.source == "kafka":
        frame = from_kafka(args.bootstrap, args.registry, args.topic, args.group, names)
    else:
        frame = from_lake(args.lake, names)
    print(frame.groupby("window").size().to_string())
    print(frame.head())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
