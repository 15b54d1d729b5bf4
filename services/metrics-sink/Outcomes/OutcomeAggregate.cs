namespace Mesh.MetricsSink.Outcomes;

/// <summary>How a declared outcome is summed up per arm (the figure the verdict and the page lead with).</summary>
internal enum OutcomeAggregate
{
    /// <summary>The mean over the joined labels that carry the outcome.</summary>
    Mean,

    /// <summary>The total over the joined labels that carry the outcome.</summary>
    Sum,

    /// <summary>The share of the joined labels carrying the outcome whose value is above zero (a click, a conversion).</summary>
    Rate,
}
