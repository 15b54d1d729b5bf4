namespace Mesh.MetricsSink.Tests;

/// <summary>Where the sink finds a model version's reference profile: beside MLmodel in MLflow (the stand-in), or in a model repository.</summary>
public sealed class ReferenceProfileSourceTests : IAsyncLifetime
{
    private readonly string _repository = Path.Combine(Path.GetTempPath(), "mesh-profiles-" + Guid.NewGuid().ToString("N"));
    private readonly HttpClient _http = new();
    private FakeMlflowServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeMlflowServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _http.Dispose();
        if (Directory.Exists(_repository))
        {
            Directory.Delete(_repository, recursive: true);
        }
    }

    [Fact]
    public async Task FindAsync_VersionLoggedWithAProfile_ReadsItThroughTheArtifactProxy()
    {
        var folder = _server.AddVersion("iris-logreg", "3", "run-3");
        await File.WriteAllTextAsync(Path.Combine(folder, "MLmodel"), "flavors: {}\n");
        await File.WriteAllTextAsync(Path.Combine(folder, ReferenceProfile.FileName), DriftTraffic.TrainingProfile(300, 2).ToJson());
        var source = new MlflowReferenceProfiles(Client(), new RegisteredModelNames(new PromotionOptions()));

        var profile = await source.FindAsync("iris-logreg", "3", CancellationToken.None);

        Assert.NotNull(profile);
        Assert.Equal((ReferenceProfile.TrainingSource, 300L), (profile.Source, profile.Rows));
        Assert.Equal(["sepal_length", "sepal_width", "petal_length", "petal_width"], profile.Features.Select(f => f.Name));
    }

    [Fact]
    public async Task FindAsync_VersionLoggedWithoutAProfile_None()
    {
        var folder = _server.AddVersion("iris-logreg", "4", "run-4");
        await File.WriteAllTextAsync(Path.Combine(folder, "MLmodel"), "flavors: {}\n");

        Assert.Null(await new MlflowReferenceProfiles(Client(), new RegisteredModelNames(new PromotionOptions())).FindAsync("iris-logreg", "4", CancellationToken.None));
    }

    [Fact]
    public async Task FindAsync_ServedNameMappedToItsRegisteredModel_ReadsTheRegisteredVersion()
    {
        var folder = _server.AddVersion("iris", "7", "run-7");
        await File.WriteAllTextAsync(Path.Combine(folder, ReferenceProfile.FileName), DriftTraffic.TrainingProfile(120, 3).ToJson());
        var names = new PromotionOptions { ModelUris = { ["iris-logreg"] = "models:/iris@champion" } };
        // The alias has moved on: the profile is the served version's, not the alias's.
        _server.AddVersion("iris", "8", "run-8");
        _server.SetAlias("iris", "champion", "8");

        var profile = await new MlflowReferenceProfiles(Client(), new RegisteredModelNames(names)).FindAsync("iris-logreg", "7", CancellationToken.None);

        Assert.Equal(120, profile?.Rows);
    }

    [Fact]
    public async Task FindAsync_ModelRepository_ReadsTheVersionFolderAndNeverLeavesIt()
    {
        Directory.CreateDirectory(Path.Combine(_repository, "iris-logreg", "1"));
        await File.WriteAllTextAsync(Path.Combine(_repository, "iris-logreg", "1", ReferenceProfile.FileName), DriftTraffic.TrainingProfile(150, 4).ToJson());
        var source = new FolderReferenceProfiles(_repository);

        Assert.Equal(150, (await source.FindAsync("iris-logreg", "1", CancellationToken.None))?.Rows);
        Assert.Null(await source.FindAsync("iris-logreg", "2", CancellationToken.None));
        Assert.Null(await source.FindAsync("..", "iris-logreg", CancellationToken.None));
        Assert.Null(await source.FindAsync("iris-logreg/../iris-logreg", "1", CancellationToken.None));
    }

    [Fact]
    public void Parse_AnotherSchema_RefusedNamingIt()
    {
        var json = DriftTraffic.TrainingProfile(50, 1).ToJson().Replace(ReferenceProfile.SchemaName, "mesh.reference_profile.v9", StringComparison.Ordinal);

        var e = Assert.Throws<InvalidDataException>(() => ReferenceProfile.Parse(json));

        Assert.Contains("mesh.reference_profile.v9", e.Message, StringComparison.Ordinal);
    }

    private MlflowClient Client() => new(_http, new MlflowClientOptions { TrackingUri = _server.Uri, BackoffFactor = 0 });
}
