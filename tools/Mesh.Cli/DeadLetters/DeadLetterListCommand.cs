namespace Mesh.Cli.DeadLetters;

/// <summary><c>mesh dead-letters list</c>: what is in the dead-letter topic, grouped, read to its end once.</summary>
internal static class DeadLetterListCommand
{
    public static int Run(DeadLetterListSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        var snapshot = new DeadLetterSource(new TopicSnapshotReader(settings.BootstrapServers)).Read(settings.Topic, cancellationToken);
        var chosen = snapshot.Entries.Where(settings.Filter.Matches).ToList();
        var groups = DeadLetterGroup.Build(chosen);
        if (settings.Json)
        {
            DeadLetterListReport.WriteJson(output, settings.Topic, groups, chosen.Count, snapshot.Unreadable);
        }
        else
        {
            DeadLetterListReport.WriteTable(output, settings.Topic, groups, chosen.Count, snapshot.Unreadable);
        }

        return 0;
    }
}
