namespace Mesh.Producer.Options;

/// <summary>
/// A drift to inject (section <c>Producer:Drift</c>), so anyone can reproduce what the metrics sink flags: from record
/// <see cref="AfterRecords"/> on, <see cref="Feature"/> is moved by <see cref="Shift"/> of its standard deviations
/// (over the source's rows). Off while <see cref="Feature"/> is empty.
/// </summary>
internal sealed class DriftInjectionOptions
{
    public string? Feature { get; set; }

    /// <summary>Records published unchanged before the shift starts (0: from the first).</summary>
    public long AfterRecords { get; set; }

    /// <summary>How far the mean moves, in the feature's standard deviations (negative moves it down).</summary>
    public double Shift { get; set; } = 1;

    public bool Enabled => !string.IsNullOrWhiteSpace(Feature);
}
