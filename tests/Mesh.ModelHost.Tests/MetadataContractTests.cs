namespace Mesh.ModelHost.Tests;

/// <summary>
/// What ModelMetadata tells a client before its first call (the router checks an arm's output contract with it):
/// the class names and the input's feature names, in MLServer's metadata <c>parameters</c> extension.
/// </summary>
[Collection(ModelHostCollection.Name)]
public sealed class MetadataContractTests(ModelHostFixture host)
{
    [Fact]
    public async Task ModelMetadata_Classifier_CarriesClassNamesInScoreOrder()
    {
        var metadata = await host.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "iris-logreg", Version = "1" });

        Assert.Equal(["setosa", "versicolor", "virginica"], JsonSerializer.Deserialize<string[]>(metadata.Parameters["class_names"].StringParam)!);
    }

    [Fact]
    public async Task ModelMetadata_ModelWithFeatureNames_CarriesThemOnItsInput()
    {
        var metadata = await host.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "iris-logreg", Version = "1" });

        var input = Assert.Single(metadata.Inputs);
        Assert.Equal(["sepal_length", "sepal_width", "petal_length", "petal_width"], JsonSerializer.Deserialize<string[]>(input.Parameters["feature_names"].StringParam)!);
    }
}
