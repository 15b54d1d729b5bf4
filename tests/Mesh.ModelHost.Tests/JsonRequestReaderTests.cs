namespace Mesh.ModelHost.Tests;

/// <summary>The v2 JSON request reader: the values it decodes, and what a large request costs in memory.</summary>
public sealed class JsonRequestReaderTests
{
    [Fact]
    public void Decode_NestedDataBeforeItsDatatypeAndTheIdLast_ValuesInRowMajorOrder()
    {
        var body = """{"inputs":[{"data":[[1.5,2],[3,4.25]],"shape":[2,2],"name":"x","datatype":"FP32"}],"outputs":[{"name":"probs"}],"id":"r-1"}""";

        using var request = JsonRequestReader.Decode(Body(body), "m", "1");

        var input = Assert.Single(request.Inputs);
        Assert.Equal(("x", "FP32"), (input.Name, input.Datatype));
        Assert.Equal([2L, 2L], input.Shape);
        Assert.Equal([1.5f, 2f, 3f, 4.25f], MemoryMarshal.Cast<byte, float>(input.Data.Span).ToArray());
        Assert.Equal(["probs"], request.RequestedOutputs);
        Assert.Equal("r-1", request.Id);
    }

    [Fact]
    public void Decode_BodySplitAcrossSegments_SameValuesAsOneSegment()
    {
        var body = Encoding.UTF8.GetBytes("""{"inputs":[{"name":"x","datatype":"INT64","shape":[3],"data":[7,-8,9000000000]}]}""");

        using var request = JsonRequestReader.Decode(Segmented(body, 5), "m", "1");

        Assert.Equal([7L, -8L, 9_000_000_000L], MemoryMarshal.Cast<byte, long>(Assert.Single(request.Inputs).Data.Span).ToArray());
    }

    [Theory]
    [InlineData("""{"inputs":[{"name":"x","datatype":"INT8","shape":[2],"data":[1,300]}]}""", "input 'x' is INT8: data[1] (300) is not a INT8 value")]
    [InlineData("""{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,"a"]}]}""", "data[1] (\"a\") is not a FP32 value")]
    [InlineData("""{"inputs":[{"name":"x","datatype":"FP32","shape":[2,"a"],"data":[1,2]}]}""", "input 'x' needs \"shape\", an array of integers")]
    [InlineData("""{"inputs":[{"datatype":"FP32","shape":[1],"data":[1]}]}""", "inputs[0] needs \"name\", a string")]
    [InlineData("""{"inputs":[{"name":"x","shape":[1],"data":[1]}]}""", "input 'x' needs \"datatype\", a string")]
    [InlineData("""{"outputs":[]}""", "the request needs an \"inputs\" array")]
    [InlineData("""{"inputs":[{"name":"x",""", "the request body is not JSON")]
    public void Decode_BadRequest_InvalidArgumentNamingWhatIsWrong(string body, string expected)
    {
        var error = Assert.Throws<InferenceException>(() => JsonRequestReader.Decode(Body(body), "m", "1"));

        Assert.Equal(global::Grpc.Core.StatusCode.InvalidArgument, error.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_MillionValueBody_AllocatesLittleMoreThanTheTensorItself()
    {
        var json = new StringBuilder("""{"inputs":[{"name":"x","datatype":"FP32","shape":[250000,4],"data":[""");
        for (var i = 0; i < 1_000_000; i++)
        {
            json.Append(i == 0 ? "" : ",").Append((i % 70 / 10.0).ToString(CultureInfo.InvariantCulture));
        }

        var body = Body(json.Append("]}]}").ToString());
        using (JsonRequestReader.Decode(body, "m", "1"))
        {
            // Warm: the first call's one-off costs (the reader's code, the pool's buckets) are not the request's.
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        using var request = JsonRequestReader.Decode(body, "m", "1");
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The tensor is 4 MB of floats; a document of the body and a list of its elements was over 20 MB more.
        Assert.Equal(1_000_000 * sizeof(float), Assert.Single(request.Inputs).Data.Length);
        Assert.True(allocated < 5_000_000, $"decoding allocated {allocated:N0} bytes");
    }

    private static ReadOnlySequence<byte> Body(string json) => new(Encoding.UTF8.GetBytes(json));

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int size)
    {
        Segment? first = null;
        Segment? last = null;
        for (var offset = 0; offset < bytes.Length; offset += size)
        {
            var chunk = bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset));
            last = last is null ? first = new Segment(chunk, 0) : last.Append(chunk);
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
