namespace Mesh.MetricsSink.Drift;

/// <summary>Where drift alert events go (the alerts topic); tests read them from a list.</summary>
internal interface IDriftAlertSink
{
    public void Publish(DriftAlert alert);
}
