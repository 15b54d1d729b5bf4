using System.Diagnostics.Metrics;

namespace Mesh.ServiceDefaults.Telemetry;

/// <summary>
/// The untagged counters of a service's meter that <see cref="AddZeros"/> puts on /metrics at zero, so an alert on
/// their rate reads 0 rather than "no data". Every counter made here is zeroed, so a new one cannot be left out. A
/// counter with tags is made on the meter itself: its zero would be a series without them.
/// </summary>
/// <param name="meter">The service's meter.</param>
public sealed class ZeroedCounters(Meter meter)
{
    private readonly List<Counter<long>> _counters = [];

    /// <summary>A new counter on the meter, zeroed by <see cref="AddZeros"/>.</summary>
    public Counter<long> Create(string name, string description)
    {
        var counter = meter.CreateCounter<long>(name, description: description);
        _counters.Add(counter);
        return counter;
    }

    /// <summary>Adds 0 to every counter. Called once the meter provider listens (a measurement before that is lost).</summary>
    public void AddZeros()
    {
        foreach (var counter in _counters)
        {
            counter.Add(0);
        }
    }
}
