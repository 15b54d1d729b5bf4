namespace Mesh.ModelHost.Inference;

/// <summary>
/// One request input as it came off the wire. <see cref="Data"/> holds fixed-size elements in the v2
/// little-endian layout (straight from <c>raw_input_contents</c> when sent raw, so nothing is copied),
/// or the v2 length-prefixed BYTES encoding; typed BYTES arrive as <see cref="Elements"/>.
/// </summary>
internal sealed class InputTensor(string name, string datatype, long[] shape) : IDisposable
{
    private byte[]? _rented;

    public string Name { get; } = name;

    public string Datatype { get; } = datatype;

    public long[] Shape { get; } = shape;

    public ReadOnlyMemory<byte> Data { get; private set; }

    /// <summary>BYTES elements (UTF-8), when they came as separate values or once the raw encoding is split.</summary>
    public ReadOnlyMemory<byte>[]? Elements { get; set; }

    /// <summary>How many values typed contents held (null for raw bytes), for count checks that name both numbers.</summary>
    public long? ValueCount { get; private set; }

    /// <summary>Where the data came from, as the caller would name it (<c>raw_input_contents[0]</c>, <c>contents.fp32_contents</c>).</summary>
    public string Source { get; private set; } = "";

    public bool HasData => ValueCount is not null || !Data.IsEmpty || Elements is not null;

    public void SetRaw(ReadOnlyMemory<byte> data, string source)
    {
        Data = data;
        Source = source;
    }

    /// <summary>Typed values converted into a buffer of <see cref="TensorBufferPool.Shared"/>, returned when the tensor is disposed.</summary>
    public Span<byte> RentTyped(long count, int elementSize, string source)
    {
        ValueCount = count;
        Source = source;
        var length = checked((int)(count * elementSize));
        _rented = TensorBufferPool.Shared.Rent(length);
        Data = _rented.AsMemory(0, length);
        return _rented.AsSpan(0, length);
    }

    public void SetTypedElements(ReadOnlyMemory<byte>[] elements, string source)
    {
        ValueCount = elements.Length;
        Elements = elements;
        Source = source;
    }

    public void Dispose()
    {
        if (_rented is not null)
        {
            TensorBufferPool.Shared.Return(_rented);
            _rented = null;
        }
    }
}
