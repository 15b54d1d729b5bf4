using Confluent.SchemaRegistry;
using Mesh.Kafka.SchemaRegistry;

namespace Mesh.Cli.Schemas;

/// <summary>
/// What <c>mesh schemas check</c> and <c>mesh schemas register</c> do: for every mesh topic, compares this build's
/// mesh.v1 schema with the subject's latest version under the subject's compatibility level, registers it when asked
/// and allowed, and prints one table row per subject. An upstream team's CI runs it before it deploys: the exit code
/// is 1 when any change is incompatible (nothing is registered then), 78 when the registry cannot be reached.
/// </summary>
internal static class SchemaContractCheck
{
    public const int Incompatible = 1;

    public static async Task<int> RunAsync(ISchemaRegistryClient client, IReadOnlyList<MeshSchema> schemas, SubjectNameStrategy strategy, bool register, TextWriter output, CancellationToken cancellationToken)
    {
        List<SchemaRow> rows;
        try
        {
            rows = await CheckAsync(client, schemas, strategy, cancellationToken).ConfigureAwait(false);
            if (register && rows.All(r => r.Compatible))
            {
                for (var i = 0; i < rows.Count; i++)
                {
                    var registered = await ProtobufSchemas.RegisterOrLookUpAsync(client, rows[i].Subject, schemas[i].Descriptor, register: true).ConfigureAwait(false);
                    rows[i] = rows[i] with { Version = registered.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), Id = registered.Id, Result = rows[i].Result == "registered" ? "registered" : "registered now" };
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException || e is SchemaRegistryException { Status: >= System.Net.HttpStatusCode.InternalServerError })
        {
            await output.WriteLineAsync($"error: --url: the schema registry did not answer: {e.Message}").ConfigureAwait(false);
            return 78;
        }

        await output.WriteAsync(SchemaTable.Format(rows)).ConfigureAwait(false);
        if (rows.Any(r => !r.Compatible))
        {
            await output.WriteLineAsync(register
                ? "error: incompatible schema changes; nothing was registered."
                : "error: incompatible schema changes.").ConfigureAwait(false);
            return Incompatible;
        }

        return 0;
    }

    private static async Task<List<SchemaRow>> CheckAsync(ISchemaRegistryClient client, IReadOnlyList<MeshSchema> schemas, SubjectNameStrategy strategy, CancellationToken cancellationToken)
    {
        var subjects = (await client.GetAllSubjectsAsync().ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        var global = await client.GetCompatibilityAsync(null).ConfigureAwait(false);
        var rows = new List<SchemaRow>();
        foreach (var schema in schemas)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var subject = SubjectNames.For(strategy, schema.Topic, schema.Descriptor);
            var message = schema.Descriptor.FullName;
            if (!subjects.Contains(subject))
            {
                rows.Add(new SchemaRow(subject, message, "-", null, global.ToString().ToUpperInvariant(), "new", true));
                continue;
            }

            var level = await LevelAsync(client, subject, global).ConfigureAwait(false);
            var latest = await client.GetLatestSchemaAsync(subject).ConfigureAwait(false);
            var candidate = await ProtobufSchemas.ForFileAsync(client, schema.Descriptor.File, register: false).ConfigureAwait(false);
            var version = latest.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (latest.SchemaString == candidate.SchemaString)
            {
                rows.Add(new SchemaRow(subject, message, version, latest.Id, level, "registered", true));
                continue;
            }

            var compatible = await client.IsCompatibleAsync(subject, candidate).ConfigureAwait(false);
            rows.Add(new SchemaRow(subject, message, version, latest.Id, level, compatible ? "compatible change" : "INCOMPATIBLE", compatible));
        }

        return rows;
    }

    // A subject without its own level follows the registry's (GET /config/{subject} answers 40408).
    private static async Task<string> LevelAsync(ISchemaRegistryClient client, string subject, Compatibility global)
    {
        try
        {
            return (await client.GetCompatibilityAsync(subject).ConfigureAwait(false)).ToString().ToUpperInvariant();
        }
        catch (SchemaRegistryException e) when (e.ErrorCode == 40408 || e.Status == System.Net.HttpStatusCode.NotFound)
        {
            return global.ToString().ToUpperInvariant();
        }
    }
}
