using System.ComponentModel;
using System.Globalization;

namespace Mesh.MetricsSink.Options;

/// <summary>
/// Reads <c>MetricsSink:JoinBy</c> as the binder reads any enum, except that a word it does not know becomes an
/// undefined value instead of an exception: validation then refuses it with a message naming the setting
/// (exit 78), where the binder's exception would crash the start with a stack trace.
/// </summary>
internal sealed class JoinByConverter : EnumConverter
{
    /// <summary>What an unknown word becomes: no member has it.</summary>
    public const JoinBy Unknown = (JoinBy)(-1);

    public JoinByConverter()
        : base(typeof(JoinBy))
    {
    }

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text && !Enum.TryParse<JoinBy>(text.Trim(), ignoreCase: true, out _)
            ? Unknown
            : base.ConvertFrom(context, culture, value);
}
