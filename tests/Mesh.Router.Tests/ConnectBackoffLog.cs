namespace Mesh.Router.Tests;

/// <summary>
/// Keeps the connect backoffs a gRPC channel announces ("starting connect backoff of {BackoffDuration}", the trace
/// record its subchannel writes before each wait between two connection attempts), so a test reads what the channel
/// chose to wait rather than timing it.
/// </summary>
internal sealed class ConnectBackoffLog : ILoggerProvider, ILogger
{
    public ConcurrentQueue<TimeSpan> Backoffs { get; } = new();

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Name == "StartingConnectBackoff" && state is IReadOnlyList<KeyValuePair<string, object?>> fields
            && fields.FirstOrDefault(f => f.Key == "BackoffDuration").Value is TimeSpan backoff)
        {
            Backoffs.Enqueue(backoff);
        }
    }

    public void Dispose()
    {
    }
}
