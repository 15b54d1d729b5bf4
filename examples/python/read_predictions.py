#!/usr/bin/env python3
"""Reads mesh predictions from Kafka and prints each one as a JSON line.

The data-team side of the mesh outside .NET: Debian's python3-confluent-kafka for Kafka, and the
mesh.v1 classes generated from the repository's protos by protoc (./generate.sh). Offsets are committed
only after a record was printed and flushed, so a crash re-reads rather than loses (at-least-once, like
the .NET consumer).

    ./generate.sh
    /usr/bin/python3 read_predictions.py --topic mesh.predictions.v1 --from-beginning --max-messages 10
"""

import argparse
import json
import os
import sys
import time


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
                        help="Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS, else the address "
                             "the embedded broker wrote to ~/.mesh/bootstrap.servers)")
    parser.add_argument("--topic", action="append", dest="topics",
                        help="topic to read, repeatable (default mesh.predictions.v1)")
    parser.add_argument("--group", default="mesh-python-example", help="consumer group id")
    parser.add_argument("--from-beginning", action="store_true",
                        help="a group without committed offsets starts at the oldest record, not the newest")
    parser.add_argument("--experiment", help="print only predictions of this experiment")
    parser.add_argument("--arm", help="print only predictions of this arm")
    parser.add_argument("--max-messages", type=int, default=0, help="stop after printing this many (0: run until Ctrl-C)")
    parser.add_argument("--timeout", type=float, default=0,
                        help="stop with exit code 1 when --max-messages were not printed within this many seconds")
    parser.add_argument("--generated", default=os.path.join(here, "generated"),
                        help="folder of the classes generate.sh wrote (default ./generated)")
    return parser.parse_args()


def bootstrap_servers(configured):
    if configured:
        return configured
    path = os.path.expanduser("~/.mesh/bootstrap.servers")
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        sys.exit(f"error: no --bootstrap-servers, no KAFKA_BOOTSTRAP_SERVERS and no {path} (start 'mesh broker' or name a cluster)")


def main():
    args = parse_args()
    if not os.path.isdir(os.path.join(args.generated, "mesh", "v1")):
        sys.exit(f"error: no generated classes in {args.generated}: run ./generate.sh first")
    sys.path.insert(0, args.generated)
    # Imported late: the generated folder is only known from the arguments.
    from confluent_kafka import Consumer, KafkaError, KafkaException
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError
    from mesh.v1 import predictions_pb2

    consumer = Consumer({
        "bootstrap.servers": bootstrap_servers(args.bootstrap_servers),
        "group.id": args.group,
        "auto.offset.reset": "earliest" if args.from_beginning else "latest",
        # Offsets are stored by hand once a record is printed; auto-commit then commits only those.
        "enable.auto.offset.store": False,
        "enable.auto.commit": True,
        # librdkafka's default fetch.wait.max.ms (500 ms) lets a broker hold each fetch until it times out when a
        # partition has little new data: against the embedded broker that adds up to half a second per read.
        # 10 ms keeps a live reader close to the stream at the cost of a few more fetch requests.
        "fetch.wait.max.ms": 10,
    })
    consumer.subscribe(args.topics or ["mesh.predictions.v1"])

    deadline = time.monotonic() + args.timeout if args.timeout > 0 else None
    printed = skipped = 0
    try:
        while args.max_messages == 0 or printed < args.max_messages:
            if deadline is not None and time.monotonic() > deadline:
                print(f"timed out: printed {printed} of {args.max_messages} predictions", file=sys.stderr)
                return 1
            record = consumer.poll(0.5)
            if record is None:
                continue
            if record.error():
                if record.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(record.error())
            prediction = predictions_pb2.Prediction()
            try:
                prediction.ParseFromString(record.value() or b"")
            except DecodeError as e:
                # Counted and skipped, with where it was, never half-printed.
                skipped += 1
                print(f"skipped {record.topic()}[{record.partition()}]@{record.offset()}: not a mesh.v1.Prediction ({e})", file=sys.stderr)
                consumer.store_offsets(message=record)
                continue
            if (args.experiment and prediction.experiment != args.experiment) or (args.arm and prediction.arm != args.arm):
                consumer.store_offsets(message=record)
                continue
            row = json_format.MessageToDict(prediction, preserving_proto_field_name=True)
            row["_topic"], row["_partition"], row["_offset"] = record.topic(), record.partition(), record.offset()
            sys.stdout.write(json.dumps(row, separators=(",", ":")) + "\n")
            sys.stdout.flush()
            consumer.store_offsets(message=record)
            printed += 1
    except KeyboardInterrupt:
        pass
    finally:
        # close() commits the stored offsets and leaves the group at once.
        consumer.close()
        print(f"printed {printed} predictions, skipped {skipped} undecodable records", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
