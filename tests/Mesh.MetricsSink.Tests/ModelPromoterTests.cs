using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Mesh.MetricsSink.Options;
using Mesh.MetricsSink.Promotion;
using Mesh.MetricsSink.Verdicts;
using Mesh.Mlflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.MetricsSink.Tests;

/// <summary>Promotion of a winning challenger in the MLflow registry, answered as MLflow's REST API documents.</summary>
public sealed class ModelPromoterTests
{
    private static readonly ExperimentVerdict s_winner = new("winner", "boosted", 0.001, 0.08, 12, 0.05, "winner boosted");

    [Fact]
    public async Task PromoteAsync_ChallengerWins_MovesTheAliasAndTagsTheVersionOnce()
    {
        var registry = new RegistryStub { Champion = "1" };
        var promoter = Promoter(registry, enabled: true);
        var request = new PromotionRequest("iris-ab", "boosted", "iris-boosted", "2", s_winner);

        Assert.True(await promoter.PromoteAsync(request, CancellationToken.None));
        Assert.False(await promoter.PromoteAsync(request, CancellationToken.None));

        var alias = Assert.Single(registry.Posts, p => p.Path.EndsWith("registered-models/alias", StringComparison.Ordinal)).Body;
        Assert.Equal(("iris-boosted", "champion", "2"), ((string?)alias["name"], (string?)alias["alias"], (string?)alias["version"]));
        var tag = Assert.Single(registry.Posts, p => p.Path.EndsWith("model-versions/set-tag", StringComparison.Ordinal)).Body;
        Assert.Equal(ModelPromoter.AuditTag, (string?)tag["key"]);
        Assert.Contains("experiment iris-ab", (string?)tag["value"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromoteAsync_WinnerIsAlreadyChampion_ChangesNothing()
    {
        var registry = new RegistryStub { Champion = "2" };

        Assert.False(await Promoter(registry, enabled: true).PromoteAsync(new PromotionRequest("iris-ab", "boosted", "iris-boosted", "2", s_winner), CancellationToken.None));
        Assert.Empty(registry.Posts);
    }

    [Fact]
    public void Enabled_DefaultOptions_IsOff()
    {
        Assert.False(Promoter(new RegistryStub(), enabled: null).Enabled);
    }

    private static ModelPromoter Promoter(RegistryStub registry, bool? enabled)
    {
        var services = new ServiceCollection()
            .AddSingleton(new MlflowClient(new HttpClient(registry), new MlflowClientOptions { TrackingUri = new Uri("http://mlflow.test/"), MaxRetries = 0 }))
            .BuildServiceProvider();
        return new ModelPromoter(services, Microsoft.Extensions.Options.Options.Create(enabled is { } on ? new MetricsSinkOptions { PromoteWinner = on } : new MetricsSinkOptions()),
            new ManualTimeProvider(), NullLogger<ModelPromoter>.Instance);
    }

    private sealed class RegistryStub : HttpMessageHandler
    {
        public string? Champion { get; init; }

        public ConcurrentQueue<(string Path, JsonNode Body)> Posts { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (request.Method == HttpMethod.Get && path == "/api/2.0/mlflow/registered-models/alias")
            {
                return Champion is null
                    ? Json(HttpStatusCode.NotFound, """{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"alias not found"}""")
                    : Json(HttpStatusCode.OK, $$$"""{"model_version":{"name":"iris-boosted","version":"{{{Champion}}}","aliases":["champion"],"status":"READY"}}""");
            }

            if (request.Method == HttpMethod.Post)
            {
                Posts.Enqueue((path, JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!));
                return Json(HttpStatusCode.OK, "{}");
            }

            return Json(HttpStatusCode.NotFound, """{"error_code":"ENDPOINT_NOT_FOUND","message":"no such endpoint"}""");
        }

        private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
            new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    }
}
