using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Mesh.Kafka;

namespace Mesh.Cli.DeadLetters;

/// <summary>
/// The headers a replayed record carries besides its original ones (README, "Replay and off-policy evaluation"):
/// where its dead letter sits, and which attempt this is, so a service that fails it again dead-letters it with
/// that attempt and a replay stops after the configured number.
/// </summary>
internal static class ReplayHeaders
{
    /// <summary>The dead letter's coordinates, <c>&lt;topic&gt;/&lt;partition&gt;/&lt;offset&gt;</c>.</summary>
    public const string Replay = MeshHeaders.Replay;

    /// <summary>The attempt this delivery is: the failed attempt plus one, as ASCII digits.</summary>
    public const string Attempt = MeshHeaders.ReplayAttempt;

    public static Headers Build(DeadLetterEntry entry)
    {
        var headers = new Headers();
        foreach (var (key, value) in entry.Letter.Headers)
        {
            if (key is not (Replay or Attempt))
            {
                headers.Add(key, value.ToByteArray());
            }
        }

        headers.Add(Replay, Encoding.ASCII.GetBytes(entry.Coordinates));
        headers.Add(Attempt, Encoding.ASCII.GetBytes((entry.Attempt + 1).ToString(CultureInfo.InvariantCulture)));
        return headers;
    }
}
