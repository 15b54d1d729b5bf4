"""Confluent's own Python protobuf serdes (Debian's python3-confluent-kafka) on values Mesh frames, and the reverse.

read-predictions: decodes hex-encoded framed mesh.v1.Prediction values (one per line of --input) with
ProtobufDeserializer, resolves each value's schema id through the registry (SchemaRegistryClient.get_schema) and
prints one JSON object per value. write-features: frames --count mesh.v1.FeatureRecord values with
ProtobufSerializer (which registers features.proto and its imports under the topic's subject) and prints them as hex.
"""
import argparse
import base64
import json
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["read-predictions", "write-features"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--generated", required=True)
    parser.add_argument("--input")
    parser.add_argument("--count", type=int, default=3)
    args = parser.parse_args()

    sys.path.insert(0, args.generated)
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext
    from google.protobuf import descriptor_pb2, json_format
    from mesh.v1 import features_pb2, predictions_pb2

    client = SchemaRegistryClient({"url": args.url})
    context = SerializationContext(args.topic, MessageField.VALUE)
    if args.mode == "read-predictions":
        deserializer = ProtobufDeserializer(predictions_pb2.Prediction)
        with open(args.input) as values:
            for line in values:
                value = bytes.fromhex(line.strip())
                schema_id = int.from_bytes(value[1:5], "big")
                schema = client.get_schema(schema_id)
                schema_file = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(schema.schema_str))
                row = json_format.MessageToDict(deserializer(value, context), preserving_proto_field_name=True)
                row["_schema_id"] = schema_id
                row["_schema_file"] = schema_file.name
                row["_schema_messages"] = [m.name for m in schema_file.message_type]
                row["_references"] = [r.name for r in schema.references]
                print(json.dumps(row))
    else:
        serializer = ProtobufSerializer(features_pb2.FeatureRecord, client)
        for i in range(args.count):
            record = features_pb2.FeatureRecord(
                request_id=f"py-{i}",
                entity_id=f"entity-{i}",
                feature_set="iris",
                values=[5.0, 3.5, 1.25, float(i)],
                names=["sepal_length", "sepal_width", "petal_length", "petal_width"],
                context={"writer": "python"},
            )
            record.event_time.FromSeconds(1764590400 + i)
            print(serializer(record, context).hex())


if __name__ == "__main__":
    main()
