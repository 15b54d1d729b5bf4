using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Mesh.Mlflow;

/// <summary>
/// The HMAC signature MLflow 3's registry webhooks carry, as MLflow's webhook documentation specifies it:
/// <c>X-MLflow-Signature: v1,&lt;base64 HMAC-SHA256(secret, "&lt;delivery id&gt;.&lt;timestamp&gt;.&lt;body&gt;")&gt;</c>,
/// with <c>X-MLflow-Delivery-Id</c> and <c>X-MLflow-Timestamp</c> (Unix seconds) beside it.
/// </summary>
public static class MlflowWebhookSignature
{
    /// <summary>The signature header.</summary>
    public const string SignatureHeader = "X-MLflow-Signature";

    /// <summary>The delivery id header.</summary>
    public const string DeliveryIdHeader = "X-MLflow-Delivery-Id";

    /// <summary>The timestamp header (Unix seconds).</summary>
    public const string TimestampHeader = "X-MLflow-Timestamp";

    private const string Version = "v1,";

    /// <summary>The header value MLflow sends for this delivery.</summary>
    public static string Sign(string secret, string deliveryId, string timestamp, string body) =>
        Version + Convert.ToBase64String(Hash(secret, deliveryId, timestamp, body));

    /// <summary>
    /// True when <paramref name="signature"/> is MLflow's for this delivery and <paramref name="timestamp"/> is within
    /// <paramref name="maxAge"/> of <paramref name="now"/> (a replayed delivery is refused).
    /// </summary>
    public static bool Verify(string secret, string? deliveryId, string? timestamp, string body, string? signature, DateTimeOffset now, TimeSpan maxAge)
    {
        if (string.IsNullOrEmpty(deliveryId) || string.IsNullOrEmpty(signature) || !signature.StartsWith(Version, StringComparison.Ordinal)
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || (now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > maxAge)
        {
            return false;
        }

        Span<byte> given = stackalloc byte[32];
        return Convert.TryFromBase64String(signature[Version.Length..], given, out var written)
            && written == 32
            && CryptographicOperations.FixedTimeEquals(given, Hash(secret, deliveryId, timestamp!, body));
    }

    private static byte[] Hash(string secret, string deliveryId, string timestamp, string body) =>
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{deliveryId}.{timestamp}.{body}"));
}
