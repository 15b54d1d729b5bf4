using Microsoft.Extensions.Options;

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

    private static async Task<OptionsValidationException> StartExpectingFailure(string repository)
    {
        await using var app = ModelHostExtensions.CreateApp(ModelHostFixture.Settings(repository));
        return await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
    }
}
