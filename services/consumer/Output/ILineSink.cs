namespace Mesh.Consumer.Output;

/// <summary>Where JSON lines go. A line counts as written only once <see cref="Flush"/> returned.</summary>
internal interface ILineSink : IDisposable
{
    public void WriteLine(string line);

    public void Flush();
}
