namespace Mesh.MetricsSink.Verdicts;

/// <summary>Joined and correct predictions of one arm at a look; a shadow answers nobody, so it is never compared.</summary>
internal readonly record struct ArmOutcomes(string Arm, long Joined, long Correct, bool Shadow = false)
{
    public double Accuracy => Joined == 0 ? 0 : (double)Correct / Joined;
}
