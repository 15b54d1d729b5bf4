using Mesh.MetricsSink.Outcomes;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>The running figures of one declared outcome on one arm: enough for its mean, sum, rate, variance and reward.</summary>
internal sealed class OutcomeTally(OutcomeDeclaration declaration)
{
    public OutcomeDeclaration Declaration => declaration;

    /// <summary>Joined labels that carried the outcome.</summary>
    public long Count { get; private set; }

    public double Sum { get; private set; }

    public double SumOfSquares { get; private set; }

    /// <summary>Of <see cref="Count"/>, values above zero.</summary>
    public long Positive { get; private set; }

    /// <summary>The bandit rewards the values earned (<see cref="OutcomeDeclaration.Reward"/>), each in [0, 1].</summary>
    public double RewardSum { get; private set; }

    public double? Mean => Count == 0 ? null : Sum / Count;

    public double? Rate => Count == 0 ? null : (double)Positive / Count;

    /// <summary>The sample variance of the values (n − 1); null below two.</summary>
    public double? Variance => Count < 2 ? null : Math.Max(0, (SumOfSquares - (Sum * Sum / Count)) / (Count - 1));

    /// <summary>The figure the declaration names: the mean, the sum or the rate.</summary>
    public double? Value => declaration.Aggregate switch
    {
        OutcomeAggregate.Sum => Count == 0 ? null : Sum,
        OutcomeAggregate.Rate => Rate,
        _ => Mean,
    };

    public void Record(double value)
    {
        Count++;
        Sum += value;
        SumOfSquares += value * value;
        if (value > 0)
        {
            Positive++;
        }

        RewardSum += declaration.Reward(value);
    }

    /// <summary>Adds one figure read back from the durable join state (<see cref="DurableFigures.Outcome"/>).</summary>
    public void Restore(char figure, double value)
    {
        switch (figure)
        {
            case 'n': Count += (long)Math.Round(value); break;
            case 's': Sum += value; break;
            case 'q': SumOfSquares += value; break;
            case 'p': Positive += (long)Math.Round(value); break;
            case 'r': RewardSum += value; break;
        }
    }
}
