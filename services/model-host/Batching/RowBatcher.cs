using System.Buffers.Binary;
using Mesh.ModelHost.Inference;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Batching;

/// <summary>
/// Stacks the requests of one batch along the batch dimension and cuts the outputs back into each
/// request's rows, for a model whose inputs are <c>[N, fixed...]</c> and whose outputs follow N.
/// </summary>
internal sealed class RowBatcher(IReadOnlyList<InputSpec> inputs, IReadOnlyList<string> runOutputNames, IReadOnlyList<TensorElementType> runOutputTypes)
{
    /// <summary>Stacks the validated inputs of several requests along the batch dimension (pooled buffers; dispose them).</summary>
    public InputTensor[] Concatenate(InputTensor[][] requests, long rows)
    {
        var combined = new InputTensor[inputs.Count];
        for (var i = 0; i < combined.Length; i++)
        {
            var spec = inputs[i];
            long[] shape = [rows, .. spec.Shape.Skip(1)];
            var tensor = new InputTensor(spec.Name, spec.Datatype, shape);
            combined[i] = tensor;
            if (spec.ElementType == TensorElementType.String)
            {
                tensor.SetTypedElements([.. requests.SelectMany(r => r[i].Elements!)], "batch");
                continue;
            }

            var size = TensorDatatype.ElementSize(spec.ElementType);
            var elements = requests.Sum(r => (long)r[i].Data.Length) / size;
            var destination = tensor.RentTyped(elements, size, "batch");
            var offset = 0;
            foreach (var request in requests)
            {
                request[i].Data.Span.CopyTo(destination[offset..]);
                offset += request[i].Data.Length;
            }
        }

        return combined;
    }

    /// <summary>Cuts each output of a batched run back into the rows of each request, in order.</summary>
    public RunOutput[][] SplitRows(RunOutput[] outputs, long[] rowCounts)
    {
        var total = 0L;
        foreach (var count in rowCounts)
        {
            total += count;
        }

        var split = new RunOutput[rowCounts.Length][];
        for (var r = 0; r < split.Length; r++)
        {
            split[r] = new RunOutput[outputs.Length];
        }

        for (var o = 0; o < outputs.Length; o++)
        {
            var output = outputs[o];
            if (output.Shape is not [var first, ..] || first != total)
            {
                throw new InvalidDataException($"output '{runOutputNames[o]}' of a batch of {total} rows has shape {TensorDatatype.Format(output.Shape)}; its rows cannot be split back.");
            }

            var elementsPerRow = TensorDatatype.ElementCount(output.Shape.AsSpan(1));
            var offset = 0;
            for (var r = 0; r < rowCounts.Length; r++)
            {
                var length = runOutputTypes[o] == TensorElementType.String
                    ? BytesLength(output.Data.AsSpan(offset), rowCounts[r] * elementsPerRow)
                    : checked((int)(output.Data.Length / total * rowCounts[r]));
                var shape = (long[])output.Shape.Clone();
                shape[0] = rowCounts[r];
                split[r][o] = new RunOutput(shape, output.Data.AsSpan(offset, length).ToArray(), output.ClassLabels);
                offset += length;
            }
        }

        return split;
    }

    private static int BytesLength(ReadOnlySpan<byte> data, long elements)
    {
        var offset = 0;
        for (var i = 0L; i < elements; i++)
        {
            offset += sizeof(int) + BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
        }

        return offset;
    }
}
