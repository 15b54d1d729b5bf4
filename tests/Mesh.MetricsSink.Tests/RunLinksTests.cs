namespace Mesh.MetricsSink.Tests;

/// <summary>
/// Each arm on the page and in /api/summary links to its run in the MLflow UI, with the ids the tracking server gave
/// the run (a stand-in answering as MLflow's REST API does), or to a UI address of its own; none for the local folder.
/// </summary>
public sealed class RunLinksTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _time = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly HttpClient _http = new();
    private FakeMlflowTrackingServer _mlflow = null!;

    public async Task InitializeAsync() => _mlflow = await FakeMlflowTrackingServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _mlflow.DisposeAsync();
        _http.Dispose();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task WithRunUrls_TrackingServerOverHttp_EachArmLinksToTheRunTheServerCreated()
    {
        var (joiner, writer, closer, links) = Sink(RunLinks.UiOf(null, _mlflow.Uri));
        Feed(joiner);

        closer.CloseWindow();
        await writer.FlushAsync();
        var arms = Assert.Single(links.WithRunUrls(joiner.Snapshot()).Experiments).Arms.ToDictionary(a => (a.Arm, a.Shadow));

        var experiment = _mlflow.ExperimentId("iris-ab");
        Assert.Equal($"{_mlflow.Uri.AbsoluteUri.TrimEnd('/')}/#/experiments/{experiment}/runs/{_mlflow.RunByName("logreg iris-logreg v1")!.Id}", arms[("logreg", false)].RunUrl);
        Assert.Equal($"{_mlflow.Uri.AbsoluteUri.TrimEnd('/')}/#/experiments/{experiment}/runs/{_mlflow.RunByName("candidate (shadow) iris-candidate v1")!.Id}", arms[("candidate", true)].RunUrl);
        await writer.CompleteAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task WithRunUrls_UiAddressSetApart_LinksThereWithTheSameIds()
    {
        var (joiner, writer, closer, links) = Sink(RunLinks.UiOf("https://mlflow.example.com/", _mlflow.Uri));
        Feed(joiner);

        closer.CloseWindow();
        await writer.FlushAsync();
        var logreg = Assert.Single(links.WithRunUrls(joiner.Snapshot()).Experiments).Arms.Single(a => a.Arm == "logreg");

        Assert.Equal($"https://mlflow.example.com/#/experiments/{_mlflow.ExperimentId("iris-ab")}/runs/{_mlflow.RunByName("logreg iris-logreg v1")!.Id}", logreg.RunUrl);
        await writer.CompleteAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void UiOf_LocalFolderAndNoSetting_NoLink()
    {
        Assert.Null(RunLinks.UiOf(null, null));
        Assert.Null(RunLinks.UiOf("", new Uri("file:///var/mlruns")));
    }

    [Fact]
    public async Task WithRunUrls_BeforeTheFirstWindowIsWritten_NoLinkYet()
    {
        var (joiner, writer, _, links) = Sink(RunLinks.UiOf(null, _mlflow.Uri));
        Feed(joiner);

        Assert.All(Assert.Single(links.WithRunUrls(joiner.Snapshot()).Experiments).Arms, a => Assert.Null(a.RunUrl));
        await writer.CompleteAsync(TimeSpan.FromSeconds(10));
    }

    private (PredictionLabelJoiner Joiner, TrackingWriter Writer, WindowCloser Closer, RunLinks Links) Sink(Uri? ui)
    {
        var joiner = new PredictionLabelJoiner(_time, TimeSpan.FromSeconds(600), 100_000);
        var client = new MlflowClient(_http, new MlflowClientOptions { TrackingUri = _mlflow.Uri, MaxRetries = 0 });
        var writer = new TrackingWriter(new MlflowTrackingClient(client));
        var links = new RunLinks(writer, ui);
        var closer = new WindowCloser(joiner, writer, new SequentialAccuracyTest(0.05, 0.05, 100),
            new MetricsSinkTelemetry(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            Microsoft.Extensions.Options.Options.Create(new MetricsSinkOptions { WindowSeconds = 60 }), _time, NullLogger<WindowCloser>.Instance,
            links: links);
        return (joiner, writer, closer, links);
    }

    private static void Feed(PredictionLabelJoiner joiner)
    {
        for (var i = 0; i < 10; i++)
        {
            joiner.AddPrediction(Make.Prediction($"r{i}", arm: "logreg"));
            joiner.AddPrediction(Make.Prediction($"r{i}", arm: "candidate", shadow: true));
            joiner.AddLabel(Make.Label($"r{i}", "setosa"));
        }
    }
}
