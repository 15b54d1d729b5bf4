namespace Mesh.ModelHost.Tests;

/// <summary>
/// One model host in-process, built exactly as Program.cs builds it, on 127.0.0.1 port 0, serving a
/// repository with the two trained demo models and one corrupt model.
/// </summary>
public sealed class ModelHostFixture() : FolderHostFixture("mesh-model-host-")
{
    public const string CorruptModel = "iris-corrupt";

    /// <summary>The host's own meter factory: a test listens to its meters only, not those of other hosts in the process.</summary>
    public IMeterFactory MeterFactory => Host.App.Services.GetRequiredService<IMeterFactory>();

    protected override async Task WriteModelsAsync(string repository)
    {
        DemoModelTrainer.Train(Mesh.Cli.Tests.IrisData.CsvPath, repository, TextWriter.Null);

        // A model file that is not ONNX, with a valid config next to it: it must fail alone.
        var corrupt = Directory.CreateDirectory(Path.Combine(repository, CorruptModel, "1")).FullName;
        await File.WriteAllTextAsync(Path.Combine(corrupt, "model.onnx"), "this is not an ONNX model");
        File.Copy(Path.Combine(repository, DemoModelTrainer.LogisticRegressionName, "1", "config.json"), Path.Combine(corrupt, "config.json"));

        Onnx.TestModels.WriteAll(repository);
        Onnx.TestModels.WriteBatched(repository);
    }
}

/// <summary>One host for every test class that needs it: training the demo models once keeps the suite light on two cores.</summary>
[CollectionDefinition(Name)]
public sealed class ModelHostCollection : ICollectionFixture<ModelHostFixture>
{
    public const string Name = "model host";
}
