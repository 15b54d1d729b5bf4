using System.Diagnostics.Metrics;

namespace Mesh.Testing;

/// <summary>One collection of a service's observable gauges, read the way a Prometheus scrape reads them.</summary>
public static class GaugeReadings
{
    /// <summary>
    /// Collects, once, the observable <c>double</c> instruments that <paramref name="select"/> picks among the meters
    /// <paramref name="factory"/> created: only that factory's, because tests running beside this one have meters of the
    /// same names in the process. Each measurement is keyed by <paramref name="key"/>, given the instrument's name and a
    /// lookup of its tags (a missing tag reads as ""); the last value of a key is kept.
    /// </summary>
    public static Dictionary<TKey, double> Read<TKey>(IMeterFactory factory, Func<Instrument, bool> select, Func<string, Func<string, string>, TKey> key)
        where TKey : notnull
    {
        var seen = new Dictionary<TKey, double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory) && select(instrument))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            var copy = tags.ToArray();
            seen[key(instrument.Name, name => Tag(copy, name))] = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }

    private static string Tag(KeyValuePair<string, object?>[] tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return (string)tag.Value!;
            }
        }

        return "";
    }
}
