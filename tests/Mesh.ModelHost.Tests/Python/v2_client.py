"""A client of the model host on another gRPC stack (Python grpcio): ModelMetadata and ModelInfer.

Usage: v2_client.py <host:port> <generated-code-folder>
Prints one JSON object with what the server answered; the C# test checks it.
"""
import json
import struct
import sys

sys.path.insert(0, sys.argv[2])

import grpc  # noqa: E402
from inference import grpc_predict_v2_pb2 as pb  # noqa: E402
from inference import grpc_predict_v2_pb2_grpc as pb_grpc  # noqa: E402


def decode_bytes(raw):
    values, offset = [], 0
    while offset < len(raw):
        (length,) = struct.unpack_from("<I", raw, offset)
        values.append(raw[offset + 4:offset + 4 + length].decode("utf-8"))
        offset += 4 + length
    return values


def main():
    channel = grpc.insecure_channel(sys.argv[1])
    stub = pb_grpc.GRPCInferenceServiceStub(channel)
    result = {"live": stub.ServerLive(pb.ServerLiveRequest()).live}

    metadata = stub.ModelMetadata(pb.ModelMetadataRequest(name="iris-logreg"))
    result["metadata"] = {
        "name": metadata.name,
        "platform": metadata.platform,
        "inputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in metadata.inputs],
        "outputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in metadata.outputs],
    }

    rows = [5.1, 3.5, 1.4, 0.2, 7.0, 3.2, 4.7, 1.4, 6.3, 3.3, 6.0, 2.5]
    request = pb.ModelInferRequest(model_name="iris-logreg", id="python-1")
    request.inputs.add(name=metadata.inputs[0].name, datatype="FP32", shape=[3, 4])
    request.raw_input_contents.append(struct.pack("<12f", *rows))
    response = stub.ModelInfer(request)
    outputs = {o.name: raw for o, raw in zip(response.outputs, response.raw_output_contents)}
    result["infer"] = {
        "id": response.id,
        "model_version": response.model_version,
        "class_names": json.loads(response.parameters["class_names"].string_param),
        "labels": decode_bytes(outputs["label"]),
        "probabilities": list(struct.unpack("<9f", outputs["probabilities"])),
    }

    typed = pb.ModelInferRequest(model_name="string-encoder")
    tensor = typed.inputs.add(name="color", datatype="BYTES", shape=[3])
    tensor.contents.bytes_contents.extend([b"blue", b"red", b"grey"])
    response = stub.ModelInfer(typed)
    result["codes"] = list(struct.unpack("<3q", response.raw_output_contents[0]))

    try:
        stub.ModelInfer(pb.ModelInferRequest(model_name="no-such-model"))
        result["error"] = None
    except grpc.RpcError as error:
        result["error"] = {"code": error.code().name, "details": error.details()}

    print(json.dumps(result))


if __name__ == "__main__":
    main()
