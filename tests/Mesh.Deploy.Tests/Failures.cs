namespace Mesh.Deploy.Tests;

/// <summary>Collects every failure of a check so one run lists them all, each naming its object and field.</summary>
internal static class Failures
{
    public static void None(IEnumerable<string> failures, string what)
    {
        var list = failures.ToList();
        Assert.True(list.Count == 0, $"{what}: {list.Count} failure(s):{Environment.NewLine}{string.Join(Environment.NewLine, list)}");
    }
}
