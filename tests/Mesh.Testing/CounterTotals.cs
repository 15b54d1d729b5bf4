using System.Diagnostics.Metrics;

namespace Mesh.Testing;

/// <summary>What the counters of one meter reported while an action ran, summed per instrument, as a metrics reader collects them.</summary>
public static class CounterTotals
{
    /// <summary>
    /// The totals of the meter named <paramref name="meterName"/> that <paramref name="factory"/> creates. Only that
    /// factory's meter is heard: tests running beside this one have meters of the same name in the process.
    /// </summary>
    public static Dictionary<string, long> While(string meterName, IMeterFactory factory, Action action)
    {
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == meterName && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (totals)
            {
                totals[instrument.Name] = totals.GetValueOrDefault(instrument.Name) + value;
            }
        });
        listener.Start();
        action();
        lock (totals)
        {
            return new Dictionary<string, long>(totals, StringComparer.Ordinal);
        }
    }
}
