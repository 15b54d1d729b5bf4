namespace Mesh.Mlflow.Tests;

/// <summary>Moving @champion with the way back recorded, and going back, against a server answering as MLflow 3 does.</summary>
public sealed class ChampionAliasTests() : FakeMlflowTests<FakeMlflowServer>(FakeMlflowServer.StartAsync)
{
    [Fact]
    public async Task MoveAsync_NoChampionYet_MakesTheFirstChampionAndRecordsThereWasNone()
    {
        // The real server answers a missing alias with 400 INVALID_PARAMETER_VALUE; that is "no champion".
        Server.AddVersion("iris", "1", "run-a");

        var move = await Champion().MoveAsync("iris", "champion", "1", [new("mesh.promotion_p_value", "0.001")]);

        Assert.Equal(new AliasMove(null, "1", true), move);
        Assert.Equal("1", Server.Alias("iris", "champion"));
        Assert.Equal("", Server.VersionTag("iris", "1", ChampionAlias.PromotedFromTag));
        Assert.Equal("0.001", Server.VersionTag("iris", "1", "mesh.promotion_p_value"));
    }

    [Fact]
    public async Task UndoAsync_AfterAPromotion_MovesTheAliasBackToPromotedFrom()
    {
        Server.AddVersion("iris", "1", "run-a");
        Server.AddVersion("iris", "2", "run-b");
        Server.SetAlias("iris", "champion", "1");
        var champion = Champion();
        await champion.MoveAsync("iris", "champion", "2", []);

        var undo = await champion.UndoAsync("iris", "champion", "mesh promote --undo");

        Assert.Equal(new AliasMove("2", "1", true), undo);
        Assert.Equal("1", Server.Alias("iris", "champion"));
        Assert.Equal("1", Server.VersionTag("iris", "2", ChampionAlias.PromotedFromTag));
        Assert.Contains("moved back to v1", Server.VersionTag("iris", "2", ChampionAlias.UndoneTag));
    }

    [Fact]
    public async Task UndoAsync_ChampionNotPromotedByMesh_RefusesAndLeavesTheAlias()
    {
        Server.AddVersion("iris", "3", "run-c");
        Server.SetAlias("iris", "champion", "3");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Champion().UndoAsync("iris", "champion", "undo"));

        Assert.Contains("no mesh.promoted_from tag", error.Message);
        Assert.Equal("3", Server.Alias("iris", "champion"));
    }

    private ChampionAlias Champion() => new(ClientOf(o => o.MaxRetries = 0));
}
