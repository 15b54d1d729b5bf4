using System.ComponentModel;

namespace Mesh.MetricsSink.Options;

/// <summary>How a label finds its predictions (<c>MetricsSink:JoinBy</c>).</summary>
[TypeConverter(typeof(JoinByConverter))]
internal enum JoinBy
{
    /// <summary>The label's request id names its predictions.</summary>
    RequestId,

    /// <summary>A label joins its entity's latest prediction made at or before the label's observed time.</summary>
    EntityTime,
}
