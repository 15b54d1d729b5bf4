namespace Mesh.Consumer.Tests;

/// <summary>Keeps written lines apart from flushed ones, so tests see what a crash would lose.</summary>
internal sealed class MemoryLineSink : ILineSink
{
    private readonly List<string> _buffered = [];

    public List<string> Flushed { get; } = [];

    public bool FailFlush { get; set; }

    public void WriteLine(string line) => _buffered.Add(line);

    public void Flush()
    {
        if (FailFlush)
        {
            throw new IOException("disk full");
        }

        Flushed.AddRange(_buffered);
        _buffered.Clear();
    }

    public void Dispose()
    {
    }
}
