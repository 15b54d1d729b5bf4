namespace Mesh.Cli.Tests;

public sealed class ReplayPlannerTests
{
    private static readonly ReplayRules s_unchanged = new(To: null, FixUps: [], MaxAttempts: 3, Predicted: null);

    [Fact]
    public void Plan_Unchanged_KeepsKeyValueHeadersAndAddsReplayHeaders()
    {
        var letter = DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("r1"), "mesh.features.v1", "BadRecord", "x", attempt: 1);
        var entry = new DeadLetterEntry("mesh.dead-letter.v1", 2, 17, DateTime.UtcNow, letter);

        var item = Assert.Single(ReplayPlanner.Plan([entry], s_unchanged).Items);

        Assert.Equal("mesh.features.v1", item.Topic);
        Assert.Equal("r1", item.RequestId);
        Assert.Equal(letter.Key.ToByteArray(), item.Message.Key);
        Assert.Equal(letter.Value.ToByteArray(), item.Message.Value);
        Assert.Equal("mesh.dead-letter.v1/2/17", Encoding.ASCII.GetString(item.Message.Headers.GetLastBytes(ReplayHeaders.Replay)));
        Assert.Equal("2", Encoding.ASCII.GetString(item.Message.Headers.GetLastBytes(ReplayHeaders.Attempt)));
        Assert.Equal(letter.Headers["traceparent"].ToByteArray(), item.Message.Headers.GetLastBytes("traceparent"));
    }

    [Fact]
    public void Plan_ValueOmittedAsTooLarge_NotSentAndNamesWhereTheOriginalIs()
    {
        var letter = DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("big"), "mesh.features.v1", "decode", "x", attempt: 1);
        letter.OmittedValueBytes = letter.Value.Length;
        letter.Value = ByteString.Empty;
        letter.Partition = 4;
        letter.Offset = 99;

        var plan = ReplayPlanner.Plan([new DeadLetterEntry("mesh.dead-letter.v1", 0, 1, DateTime.UtcNow, letter)], s_unchanged);

        Assert.Empty(plan.Items);
        var (_, reason) = Assert.Single(plan.NotSendable);
        Assert.Contains("too large", reason, StringComparison.Ordinal);
        Assert.Contains("mesh.features.v1[4]@99", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_AttemptReachedMax_SkipsAndCounts()
    {
        var entries = new[]
        {
            Entry("a", attempt: 2, offset: 0),
            Entry("b", attempt: 3, offset: 1),
            Entry("c", attempt: 5, offset: 2),
        };

        var plan = ReplayPlanner.Plan(entries, s_unchanged);

        Assert.Equal(["a"], plan.Items.Select(i => i.RequestId));
        Assert.Equal(2, plan.SkippedForAttempts);
    }

    [Fact]
    public void Plan_SameRequestFailedTwice_SendsOnlyTheLatestAttempt()
    {
        var plan = ReplayPlanner.Plan([Entry("a", attempt: 1, offset: 0), Entry("a", attempt: 2, offset: 5)], s_unchanged);

        var item = Assert.Single(plan.Items);
        Assert.Equal(5, item.Entry.Offset);
        Assert.Equal("3", Encoding.ASCII.GetString(item.Message.Headers.GetLastBytes(ReplayHeaders.Attempt)));
        Assert.Equal(1, plan.SkippedAsSuperseded);
    }

    [Fact]
    public void Plan_AlreadyPredicted_Skips()
    {
        var rules = s_unchanged with { Predicted = new HashSet<string> { "a" } };

        var plan = ReplayPlanner.Plan([Entry("a", 1, 0), Entry("b", 1, 1)], rules);

        Assert.Equal(["b"], plan.Items.Select(i => i.RequestId));
        Assert.Equal(1, plan.SkippedAsPredicted);
    }

    [Fact]
    public void Plan_FixUps_RepairTheFeatureRecord()
    {
        var letter = DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("r1", 1f, float.NaN, float.PositiveInfinity, 4f), "features", "BadRecord", "NaN");
        var rules = s_unchanged with { FixUps = [FeatureFixUp.Parse("replace-non-finite=0"), FeatureFixUp.Parse("drop-names"), FeatureFixUp.Parse("drop-context")], To = "other" };

        var item = Assert.Single(ReplayPlanner.Plan([new DeadLetterEntry("dlq", 0, 0, DateTime.UtcNow, letter)], rules).Items);

        var fixedRecord = FeatureRecord.Parser.ParseFrom(item.Message.Value);
        Assert.Equal("other", item.Topic);
        Assert.Equal([1f, 0f, 0f, 4f], fixedRecord.Values);
        Assert.Empty(fixedRecord.Names);
        Assert.Empty(fixedRecord.Context);
        Assert.Equal("r1", fixedRecord.RequestId);
    }

    [Fact]
    public void Plan_FixUpOnAPrediction_IsNotSendableWithReason()
    {
        var letter = DeadLetterTraffic.Letter(DeadLetterTraffic.Feature("r1"), "predictions", "BadRecord", "x");
        letter.Value = new Prediction { RequestId = "r1", Arm = "logreg" }.ToByteString();
        letter.Headers["content-type"] = ByteString.CopyFromUtf8("application/x-protobuf; messageType=mesh.v1.Prediction");
        var rules = s_unchanged with { FixUps = [FeatureFixUp.Parse("drop-names")] };

        var plan = ReplayPlanner.Plan([new DeadLetterEntry("dlq", 0, 0, DateTime.UtcNow, letter)], rules);

        Assert.Empty(plan.Items);
        Assert.Contains("not one", Assert.Single(plan.NotSendable).Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("drop-everything")]
    [InlineData("replace-non-finite=abc")]
    [InlineData("drop-names=1")]
    public void FeatureFixUpParse_Unknown_ThrowsNamingOption(string text)
    {
        Assert.Contains("--fix", Assert.Throws<FormatException>(() => FeatureFixUp.Parse(text)).Message, StringComparison.Ordinal);
    }

    private static DeadLetterEntry Entry(string requestId, int attempt, long offset) =>
        new("dlq", 0, offset, DateTime.UtcNow, DeadLetterTraffic.Letter(DeadLetterTraffic.Feature(requestId), "features", "BadRecord", "x", attempt: attempt));
}
