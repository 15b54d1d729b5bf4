namespace Mesh.ModelHost.Tests;

/// <summary>A bad repository setting stops the host at start with a message naming the setting.</summary>
public sealed class ModelHostStartupTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mesh-model-host-start-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task StartAsync_MissingRepositoryFolder_FailsNamingTheSetting()
    {
        var error = await StartExpectingFailure(_folder);

        Assert.Contains("ModelHost:ModelRepository", error.Message);
        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public async Task StartAsync_RepositoryWithoutModels_FailsNamingTheSetting()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "iris-logreg", "1"));

        var error = await StartExpectingFailure(_folder);

        Assert.Contains("ModelHost:ModelRepository", error.Message);
        Assert.Contains("has no model", error.Message);
    }

    [Fact]
    public async Task StartAsync_EmptyRepositorySetting_FailsNamingTheSetting()
    {
        var error = await StartExpectingFailure("");

        Assert.Contains("ModelHost:ModelRepository", error.Message);
    }

    [Theory]
    [InlineData("ModelHost:Mlflow:Models:0:Uri", "models:/iris", "ModelHost:Mlflow:Models:0:Uri")]
    [InlineData("ModelHost:Mlflow:Models:0:Uri", "runs:/abc/model", "ModelHost:Mlflow:Models:0:Name")]
    [InlineData("ModelHost:Batching:MaxBatchSize", "0", "ModelHost:Batching:MaxBatchSize")]
    [InlineData("ModelHost:Batching:MaxConcurrentBatches", "0", "ModelHost:Batching:MaxConcurrentBatches")]
    [InlineData("ModelHost:Batching:MaxConcurrentBatches", "65", "ModelHost:Batching:MaxConcurrentBatches")]
    [InlineData("ModelHost:GraphOptimizationLevel", "Turbo", "ModelHost:GraphOptimizationLevel")]
    [InlineData("ModelHost:AdminToken", "secret", "ModelHost:AdminToken")]
    [InlineData("ModelHost:AdminToken", "fifteen-chars!!", "at least 16 characters")]
    [InlineData("ModelHost:Mlflow:Models:0:Steps:0", "models:/iris-scaler@prod", "ModelHost:Mlflow:Models:0:Steps: a chain needs two steps or more")]
    public async Task StartAsync_BadSetting_FailsNamingTheSetting(string key, string value, string named)
    {
        var error = await StartExpectingFailure(_folder, new() { [key] = value, ["ModelHost:Mlflow:TrackingUri"] = "http://127.0.0.1:1" });

        Assert.Contains(named, error.Message);
    }

    [Theory]
    [InlineData("", "not-a-uri", "ModelHost:Mlflow:Models:0:Steps:1:")]
    [InlineData("", "models:/iris@champion", "ModelHost:Mlflow:Models:0:Name is required for a chain of Steps")]
    [InlineData("models:/iris@champion", "models:/iris@champion", "ModelHost:Mlflow:Models:0: set Uri (one model) or Steps (a chain), not both")]
    public async Task StartAsync_BadChainOfMlflowSteps_FailsNamingTheSetting(string uri, string secondStep, string named)
    {
        var error = await StartExpectingFailure(_folder, new()
        {
            ["ModelHost:Mlflow:Models:0:Uri"] = uri,
            ["ModelHost:Mlflow:Models:0:Steps:0"] = "models:/iris-scaler@prod",
            ["ModelHost:Mlflow:Models:0:Steps:1"] = secondStep,
            ["ModelHost:Mlflow:TrackingUri"] = "http://127.0.0.1:1",
        });

        Assert.Contains(named, error.Message);
    }

    private static async Task<OptionsValidationException> StartExpectingFailure(string repository, Dictionary<string, string?>? extra = null)
    {
        var settings = FolderHostFixture.Settings(repository);
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        await using var app = ModelHostApp.Create([], settings);
        return await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
    }
}
