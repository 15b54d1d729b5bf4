using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Mesh.Cli.DeadLetters;

/// <summary>The groups of <c>mesh dead-letters list</c>: a table for people, JSON for scripts.</summary>
internal static class DeadLetterListReport
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void WriteTable(TextWriter output, string topic, IReadOnlyList<DeadLetterGroup> groups, int total, int unreadable)
    {
        var console = PlainConsole.Create(output, 240);
        var table = new Table().AddColumns("count", "reason", "service", "experiment", "arm", "first", "last", "sample");
        foreach (var g in groups)
        {
            var reason = g.ErrorMessage.Length == 0 ? g.ErrorClass : $"{g.ErrorClass}: {g.ErrorMessage}";
            var sample = $"{g.Sample.Coordinates} from {g.Sample.Letter.SourceTopic}/{g.Sample.Letter.Partition}/{g.Sample.Letter.Offset}: {RecordValue.Describe(g.Sample.Letter, 80)}";
            table.AddRow(
                g.Count.ToString("N0", CultureInfo.InvariantCulture),
                Markup.Escape(reason),
                Markup.Escape(g.Service),
                Markup.Escape(g.Experiment),
                Markup.Escape(g.Arm),
                g.First.ToString("u", CultureInfo.InvariantCulture),
                g.Last.ToString("u", CultureInfo.InvariantCulture),
                Markup.Escape(sample));
        }

        console.WriteLine($"{topic}: {total:N0} dead letter(s) in {groups.Count:N0} group(s){(unreadable > 0 ? $", {unreadable:N0} record(s) that are not dead letters" : "")}");
        if (groups.Count > 0)
        {
            console.Write(table);
        }
    }

    public static void WriteJson(TextWriter output, string topic, IReadOnlyList<DeadLetterGroup> groups, int total, int unreadable)
    {
        var report = new
        {
            Topic = topic,
            Total = total,
            Unreadable = unreadable,
            Groups = groups.Select(g => new
            {
                g.Count,
                g.ErrorClass,
                g.ErrorMessage,
                g.Service,
                g.Experiment,
                g.Arm,
                g.First,
                g.Last,
                Sample = new
                {
                    g.Sample.Partition,
                    g.Sample.Offset,
                    g.Sample.Letter.SourceTopic,
                    SourcePartition = g.Sample.Letter.Partition,
                    SourceOffset = g.Sample.Letter.Offset,
                    RequestId = RecordValue.RequestId(g.Sample.Letter.Value),
                    g.Sample.Attempt,
                    Value = RecordValue.Describe(g.Sample.Letter, 2000),
                },
            }),
        };
        output.WriteLine(JsonSerializer.Serialize(report, s_json));
    }
}
