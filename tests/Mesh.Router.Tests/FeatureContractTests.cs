using TensorMetadata = Inference.ModelMetadataResponse.Types.TensorMetadata;

namespace Mesh.Router.Tests;

/// <summary>
/// The experiment's feature contract against a model's input signature (checked when an arm is built), and the
/// cached map from the names a record carries onto the model's columns.
/// </summary>
public sealed class FeatureContractTests
{
    private static readonly string[] s_iris = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

    private static (ModelMetadataResponse Metadata, ModelInputShape Input) Model(string datatype = "FP32", int width = 4, string[]? names = null)
    {
        var input = new TensorMetadata { Name = "input-0", Datatype = datatype, Shape = { -1, width } };
        if (names is not null)
        {
            input.Parameters[FeatureContract.FeatureNamesParameter] = new InferParameter { StringParam = System.Text.Json.JsonSerializer.Serialize(names) };
        }

        var metadata = new ModelMetadataResponse { Name = "iris", Inputs = { input } };
        return (metadata, ModelInputShape.FromMetadata(metadata));
    }

    [Fact]
    public void Check_ModelTakesAFeatureTheContractLacks_RefusedNamingTheMissingFeature()
    {
        var (metadata, input) = Model(names: s_iris);

        var error = Assert.Throws<InvalidOperationException>(() => FeatureContract.Check(metadata, input, ["sepal_length", "sepal_width", "petal_length"]));

        Assert.Contains("takes feature 'petal_width', which the experiment's features: do not list", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ContractListsAFeatureTheModelDoesNotTake_RefusedNamingTheExtraFeature()
    {
        var (metadata, input) = Model(names: s_iris);

        var error = Assert.Throws<InvalidOperationException>(() => FeatureContract.Check(metadata, input, [.. s_iris, "colour"]));

        Assert.Contains("does not take the experiment's feature 'colour'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromMetadata_InputOfAnotherType_RefusedNamingTheInputAndType()
    {
        var metadata = new ModelMetadataResponse { Name = "iris", Inputs = { new TensorMetadata { Name = "input-0", Datatype = "FP64", Shape = { -1, 4 } } } };

        var error = Assert.Throws<InvalidOperationException>(() => ModelInputShape.FromMetadata(metadata));

        Assert.Contains("input 'input-0' has datatype FP64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UnnamedModelOfAnotherWidthThanTheContract_RefusedWithBothCounts()
    {
        var (metadata, input) = Model(width: 5);

        var error = Assert.Throws<InvalidOperationException>(() => FeatureContract.Check(metadata, input, s_iris));

        Assert.Contains("takes 5 features; the experiment's features: list 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_SameFeaturesInAnotherOrder_AcceptedInTheModelsOrder()
    {
        var (metadata, input) = Model(names: s_iris);

        var order = FeatureContract.Check(metadata, input, ["petal_width", "petal_length", "sepal_width", "sepal_length"]);

        Assert.Equal(s_iris, order!.Names);
    }

    [Fact]
    public void Check_NothingNamed_RecordsGoByPosition()
    {
        var (metadata, input) = Model();

        Assert.Null(FeatureContract.Check(metadata, input, null));
        Assert.Equal(s_iris, FeatureContract.Check(metadata, input, s_iris)!.Names);
    }

    [Fact]
    public void Map_NamesInAnotherOrderOrASuperset_ColumnsPointAtTheModelsFeatures()
    {
        var order = new FeatureOrder(s_iris);

        Assert.Null(order.Map([.. s_iris]).Columns);
        Assert.Equal([3, 2, 1, 0], order.Map(["petal_width", "petal_length", "sepal_width", "sepal_length"]).Columns!);
        Assert.Equal([1, 2, 3, 4], order.Map(["colour", "sepal_length", "sepal_width", "petal_length", "petal_width"]).Columns!);
    }

    [Fact]
    public void Map_MissingOrRepeatedName_NotMappedWithTheReason()
    {
        var order = new FeatureOrder(s_iris);

        Assert.Contains("lack feature 'petal_width'", order.Map(["sepal_length", "sepal_width", "petal_length", "colour"]).Problem, StringComparison.Ordinal);
        Assert.Contains("names feature 'sepal_length' twice", order.Map(["sepal_length", "sepal_length", "petal_length", "petal_width"]).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_EqualListsFromDifferentRecords_ShareOneCachedMap()
    {
        var order = new FeatureOrder(s_iris);
        var first = new Google.Protobuf.Collections.RepeatedField<string> { "petal_width", "petal_length", "sepal_width", "sepal_length" };
        var second = new Google.Protobuf.Collections.RepeatedField<string> { "petal_width", "petal_length", "sepal_width", "sepal_length" };

        Assert.Same(order.Map(first), order.Map(second));
    }
}
