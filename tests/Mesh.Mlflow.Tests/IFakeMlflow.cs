namespace Mesh.Mlflow.Tests;

/// <summary>An MLflow stand-in a test class starts for each test and talks to.</summary>
public interface IFakeMlflow : IAsyncDisposable
{
    /// <summary>The server's address (the tracking URI a client is given).</summary>
    public Uri Uri { get; }
}
