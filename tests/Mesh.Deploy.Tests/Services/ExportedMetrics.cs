namespace Mesh.Deploy.Tests.Services;

/// <summary>
/// The Prometheus names of every instrument a service creates: its telemetry classes (any type constructed from an
/// <see cref="IMeterFactory"/>) are built from the service's own assembly and their instruments read as they are
/// published, then named as OpenTelemetry's Prometheus exporter names them (dots to underscores, a unit of time or
/// bytes as a suffix, an annotation unit such as <c>{record}</c> dropped, <c>_total</c> on counters, and
/// <c>_bucket</c>, <c>_sum</c>, <c>_count</c> on histograms).
/// </summary>
internal static class ExportedMetrics
{
    public static IReadOnlySet<string> For(MeshService service)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name.StartsWith("Mesh.", StringComparison.Ordinal))
            {
                foreach (var name in PrometheusNames(instrument))
                {
                    names.Add(name);
                }
            }
        };
        listener.Start();
        // The service's own telemetry and that of the Mesh libraries it uses (Kafka client statistics, dropped spans).
        foreach (var type in ServiceAssemblies.Load(service).SelectMany(ServiceAssemblies.Types))
        {
            if (type.GetConstructor(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance, [typeof(IMeterFactory)]) is { } constructor)
            {
                constructor.Invoke([factory]);
            }
        }

        return names;
    }

    private static IEnumerable<string> PrometheusNames(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_');
        var unit = instrument.Unit switch
        {
            "s" => "_seconds",
            "ms" => "_milliseconds",
            "us" => "_microseconds",
            "By" => "_bytes",
            _ => "",
        };
        var kind = instrument.GetType().Name;
        if (kind.StartsWith("Counter", StringComparison.Ordinal) || kind.StartsWith("ObservableCounter", StringComparison.Ordinal))
        {
            return [name + unit + "_total"];
        }

        if (kind.StartsWith("Histogram", StringComparison.Ordinal))
        {
            return [name + unit + "_bucket", name + unit + "_sum", name + unit + "_count"];
        }

        return [name + unit];
    }
}
