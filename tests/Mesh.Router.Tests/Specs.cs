namespace Mesh.Router.Tests;

/// <summary>
/// The experiment files many router tests start from, written once, as a user would write them; a test that needs
/// more of a spec than these say writes its own.
/// </summary>
internal static class Specs
{
    /// <summary>An A/B experiment with one arm that takes every record; <paramref name="timeoutMs"/> is the arm's call timeout.</summary>
    public static string OneArm(string experiment, string endpoint, string model, string arm = "champion", int? timeoutMs = null) => $"""
        experiments:
          - name: {experiment}
            strategy: ab
            arms:
              - name: {arm}
                weight: 1
                endpoint: {endpoint}
                model: {model}
        {(timeoutMs is { } timeout ? $"        timeoutMs: {timeout}" : "")}
        """;

    /// <summary>
    /// An A/B experiment over arms <c>a</c> (<c>model-a</c>) and <c>b</c> (<c>model-b</c>) of one model host, with the
    /// given weights; <paramref name="versions"/>, when given, are the arms' model versions.
    /// </summary>
    public static string TwoArmAb(string experiment, string endpoint, double weightA, double weightB, (string A, string B)? versions = null) => $"""
        experiments:
          - name: {experiment}
            strategy: ab
            arms:
              - name: a
                weight: {weightA}
                endpoint: {endpoint}
                model: model-a
        {(versions is { } v ? $"        version: \"{v.A}\"" : "")}
              - name: b
                weight: {weightB}
                endpoint: {endpoint}
                model: model-b
        {(versions is { } w ? $"        version: \"{w.B}\"" : "")}
        """;

    /// <summary>
    /// A Thompson-sampling bandit over arms <c>a</c> (<c>model-a</c>) and <c>b</c> (<c>model-b</c>) of one model host;
    /// <paramref name="experimentLines"/> are more keys of the experiment, at its indentation (outcomes, a reward).
    /// </summary>
    public static string TwoArmBandit(string experiment, string endpoint, string experimentLines = "") => $"""
        experiments:
          - name: {experiment}
            strategy: bandit
            bandit:
              algorithm: thompson
            arms:
              - name: a
                endpoint: {endpoint}
                model: model-a
              - name: b
                endpoint: {endpoint}
                model: model-b
        {Indent(experimentLines, "    ")}
        """;

    private static string Indent(string lines, string by) =>
        string.Join('\n', lines.Split('\n').Select(line => line.Length == 0 ? line : by + line.TrimEnd('\r')));
}
