using System.CommandLine;
using Confluent.SchemaRegistry;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;

namespace Mesh.Cli.Schemas;

/// <summary><c>mesh schemas check|register</c>: the mesh.v1 contracts against a Confluent Schema Registry.</summary>
internal static class SchemasCommand
{
    public static Command Create()
    {
        var command = new Command("schemas", "Check or register the mesh.v1 schemas of every mesh topic in a Confluent Schema Registry; exits 1 on an incompatible change.");
        command.Subcommands.Add(Sub("check", "Compare each topic's schema with its subject's latest version under the subject's compatibility level.", register: false));
        command.Subcommands.Add(Sub("register", "Register each topic's schema (and its imports) unless any change is incompatible.", register: true));
        return command;
    }

    private static Command Sub(string name, string description, bool register)
    {
        var url = new Option<string>("--url") { Description = "The registry's URL (Kafka:SchemaRegistry:Url).", Required = true };
        var userInfo = new Option<string?>("--basic-auth-user-info") { Description = "user:password for basic authentication." };
        var token = new Option<string?>("--bearer-token") { Description = "A static bearer token." };
        var strategy = new Option<SubjectNameStrategy>("--subject-name-strategy") { Description = "Topic, Record or TopicRecord.", DefaultValueFactory = _ => SubjectNameStrategy.Topic };
        var command = new Command(name, description) { url, userInfo, token, strategy };
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = new SchemaRegistryOptions
            {
                Url = result.GetValue(url),
                BasicAuthUserInfo = result.GetValue(userInfo),
                BearerAuthCredentialsSource = result.GetValue(token) is null ? null : BearerAuthCredentialsSource.StaticToken,
                BearerAuthToken = result.GetValue(token),
                SubjectNameStrategy = result.GetValue(strategy),
            };
            if (options.Validate() is { } problem)
            {
                await Console.Error.WriteLineAsync($"error: {problem.Replace("Kafka:SchemaRegistry:Url", "--url", StringComparison.Ordinal)}").ConfigureAwait(false);
                return 78;
            }

            using var client = new CachedSchemaRegistryClient(options.ToClientConfig());
            return await SchemaContractCheck.RunAsync(client, MeshSchemaCatalog.For(new MeshTopics()), options.SubjectNameStrategy, register, Console.Out, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }
}
