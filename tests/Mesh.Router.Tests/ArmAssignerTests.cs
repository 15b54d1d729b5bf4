namespace Mesh.Router.Tests;

public sealed class ArmAssignerTests
{
    private static List<string> EntityIds(int count)
    {
        var random = new Random(20240611);
        return Enumerable.Range(0, count).Select(i => $"user-{random.Next():x8}-{i}").ToList();
    }

    [Fact]
    public void Assign_ManyEntities_SharesMatchWeights()
    {
        double[] weights = [50, 30, 20];
        var assigner = new ArmAssigner("iris-ab", weights);
        var ids = EntityIds(30_000);
        var observed = new int[weights.Length];
        foreach (var id in ids)
        {
            observed[assigner.Assign(id)]++;
        }

        var chiSquare = 0.0;
        for (var arm = 0; arm < weights.Length; arm++)
        {
            var expected = ids.Count * weights[arm] / weights.Sum();
            chiSquare += Math.Pow(observed[arm] - expected, 2) / expected;
        }

        // 2 degrees of freedom: 13.82 is the 0.1% critical value.
        Assert.True(chiSquare < 13.82, $"chi-square {chiSquare:F2} for observed [{string.Join(", ", observed)}]");
        Assert.Equal(0.5, assigner.ProbabilityOf(0), 12);
        Assert.Equal(0.3, assigner.ProbabilityOf(1), 12);
        Assert.Equal(0.2, assigner.ProbabilityOf(2), 12);
    }

    [Fact]
    public void Assign_SameEntityAgainAndInANewAssigner_SameArm()
    {
        var first = new ArmAssigner("iris-ab", [50, 50]);
        var restarted = new ArmAssigner("iris-ab", [50, 50]);
        var ids = EntityIds(2_000);
        var arms = ids.Select(first.Assign).ToList();

        Assert.Equal(arms, ids.Select(first.Assign).ToList());
        Assert.Equal(arms, ids.Select(restarted.Assign).ToList());
        // Both arms are used, so the equality above is not trivially true.
        Assert.Equal(2, arms.Distinct().Count());
    }

    [Fact]
    public void Assign_WeightChange_MovesOnlyEntitiesWhoseBucketChangesHands()
    {
        var before = new ArmAssigner("iris-ab", [50, 50]);
        var after = new ArmAssigner("iris-ab", [70, 30]);
        var moved = 0;
        var ids = EntityIds(20_000);
        foreach (var id in ids)
        {
            var bucket = before.BucketOf(id);
            Assert.Equal(bucket, after.BucketOf(id));
            var changesHands = bucket is >= 5_000 and < 7_000;
            var oldArm = before.Assign(id);
            var newArm = after.Assign(id);
            if (changesHands)
            {
                Assert.Equal((1, 0), (oldArm, newArm));
                moved++;
            }
            else
            {
                Assert.Equal(oldArm, newArm);
            }
        }

        // About a fifth of the entities sit in the buckets that changed hands.
        Assert.InRange(moved / (double)ids.Count, 0.18, 0.22);
        Assert.NotEqual(before.PolicyVersion, after.PolicyVersion);
    }

    [Fact]
    public void PolicyVersion_SameWeights_SameVersion()
    {
        Assert.Equal(new ArmAssigner("x", [1, 2]).PolicyVersion, new ArmAssigner("x", [1, 2]).PolicyVersion);
        Assert.NotEqual(new ArmAssigner("x", [1, 2]).PolicyVersion, new ArmAssigner("x", [2, 1]).PolicyVersion);
    }

    [Fact]
    public void Assign_TwoExperiments_SplitEntitiesIndependently()
    {
        var first = new ArmAssigner("exp-a", [50, 50]);
        var second = new ArmAssigner("exp-b", [50, 50]);
        var ids = EntityIds(10_000);
        var same = ids.Count(id => first.Assign(id) == second.Assign(id));

        // Unsalted hashing would put every entity in the same arm of both experiments.
        Assert.InRange(same / (double)ids.Count, 0.45, 0.55);
    }
}
