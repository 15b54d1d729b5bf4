namespace Mesh.Consumer.Tests;

public sealed class PredictionLineFormatterTests
{
    [Fact]
    public void Format_FullPrediction_IsOneLineThatRoundTrips()
    {
        var prediction = Records.Prediction("run-1");

        var line = PredictionLineFormatter.Format(prediction);

        Assert.DoesNotContain('\n', line);
        Assert.Equal(prediction, PredictionLineFormatter.Parse(line));
    }

    [Fact]
    public void Format_Prediction_UsesProtobufJsonNamesAndWritesDefaults()
    {
        var line = PredictionLineFormatter.Format(new Prediction { RequestId = "r", Latency = new Latency { EndToEndMs = 3 } });

        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("r", root.GetProperty("requestId").GetString());
        Assert.False(root.GetProperty("shadow").GetBoolean());
        Assert.Equal(3, root.GetProperty("latency").GetProperty("endToEndMs").GetDouble());
    }
}
