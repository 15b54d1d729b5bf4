namespace Mesh.MetricsSink.Tests;

/// <summary>
/// A log written inside a record's span carries that span's trace and span ids, as the service defaults configure
/// logging for every service: in the OpenTelemetry log record (what OTLP exports) and on the console line.
/// </summary>
public sealed class TraceCorrelatedLogsTests
{
    [Fact]
    public async Task Log_InsideARecordsSpan_OpenTelemetryRecordAndConsoleLineCarryItsTraceAndSpanIds()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.AddServiceDefaults("metrics-sink");
        var exported = new List<(string? Message, ActivityTraceId TraceId, ActivitySpanId SpanId)>();
        builder.Services.ConfigureOpenTelemetryLoggerProvider(logging => logging.AddProcessor(new Capture(exported)));
        var scopes = new ScopeCapture();
        builder.Logging.AddProvider(scopes);
        await using var app = builder.Build();
        // What the host's start would do first: the tracer provider listens to the Mesh.* sources from here on.
        app.Services.GetRequiredService<OpenTelemetry.Trace.TracerProvider>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Mesh.MetricsSink.Consuming");

        ActivityTraceId traceId;
        ActivitySpanId spanId;
        using (var span = MetricsSinkTelemetry.ActivitySource.StartActivity("process predictions", ActivityKind.Consumer))
        {
            Assert.NotNull(span);
            (traceId, spanId) = (span.TraceId, span.SpanId);
            logger.LogWarning("joined {RequestId}", "r-trace");
        }

        var record = Assert.Single(exported, r => r.Message == "joined r-trace");
        Assert.Equal((traceId, spanId), (record.TraceId, record.SpanId));

        var console = app.Services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Simple);
        using var line = new StringWriter();
        var entry = new LogEntry<string>(LogLevel.Warning, "Mesh.MetricsSink.Consuming", default, "joined r-trace", null, (s, _) => s);
        console.Write(in entry, scopes.Captured, line);
        Assert.Contains($"TraceId:{traceId.ToHexString()}", line.ToString(), StringComparison.Ordinal);
        Assert.Contains($"SpanId:{spanId.ToHexString()}", line.ToString(), StringComparison.Ordinal);
    }

    // The SDK reuses a LogRecord once its processors are done with it: what matters is copied out.
    private sealed class Capture(List<(string? Message, ActivityTraceId TraceId, ActivitySpanId SpanId)> records) : BaseProcessor<LogRecord>
    {
        public override void OnEnd(LogRecord data)
        {
            lock (records)
            {
                records.Add((data.FormattedMessage, data.TraceId, data.SpanId));
            }
        }
    }

    // The scopes the logger factory hands its providers (the activity's ids among them, when it tracks them), as they
    // were while the log was written: the console formatter is then given exactly those.
    private sealed class ScopeCapture : ILoggerProvider, ISupportExternalScope, ILogger
    {
        private IExternalScopeProvider? _provider;

        public Scopes Captured { get; } = new();

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _provider = scopeProvider;

        public ILogger CreateLogger(string categoryName) => this;

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (formatter(state, exception) == "joined r-trace")
            {
                _provider?.ForEachScope((scope, held) => held.Add(scope), Captured.Held);
            }
        }
    }

    private sealed class Scopes : IExternalScopeProvider
    {
        public List<object?> Held { get; } = [];

        public void ForEachScope<TState>(Action<object?, TState> callback, TState state)
        {
            foreach (var scope in Held)
            {
                callback(scope, state);
            }
        }

        public IDisposable Push(object? state) => throw new NotSupportedException("a record of scopes already taken");
    }
}
