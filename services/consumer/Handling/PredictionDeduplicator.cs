using Mesh.Contracts.V1;
using Mesh.Kafka;

namespace Mesh.Consumer.Handling;

/// <summary>
/// Tells a prediction already written from a new one: one window of recent request ids per experiment for primary
/// predictions (an experiment answers a request once, whichever arm did), and per experiment and shadow arm for
/// shadow ones. Used on the consume thread only.
/// </summary>
internal sealed class PredictionDeduplicator(int maxRequestIds, TimeSpan maxAge, TimeProvider time)
{
    private readonly Dictionary<(string Experiment, string Shadow), RecentKeyWindow> _windows = new();

    /// <summary>Remembers the prediction's request id; false when it was written already (a duplicate).</summary>
    public bool TryAdd(Prediction prediction)
    {
        var key = (prediction.Experiment, prediction.Shadow ? prediction.Arm : "");
        if (!_windows.TryGetValue(key, out var window))
        {
            window = new RecentKeyWindow(maxRequestIds, maxAge, time);
            _windows[key] = window;
        }

        return window.TryAdd(prediction.RequestId);
    }
}
