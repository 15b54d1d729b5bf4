namespace Mesh.Cli.Tests;

public sealed class OffsetRangeTests
{
    [Theory]
    [InlineData("10-20", 10, 20)]
    [InlineData("15", 15, 15)]
    [InlineData("7-", 7, long.MaxValue)]
    public void Parse_ValidRange_GivesBounds(string text, long first, long last)
    {
        Assert.Equal(new OffsetRange(first, last), OffsetRange.Parse(text));
    }

    [Theory]
    [InlineData("20-10")]
    [InlineData("x")]
    [InlineData("-5")]
    public void Parse_Invalid_ThrowsNamingOption(string text)
    {
        var e = Assert.Throws<FormatException>(() => OffsetRange.Parse(text));
        Assert.Contains("--offset", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TimeArgumentParse_Age_IsBeforeNow()
    {
        var now = new DateTime(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);
        Assert.Equal(now.AddHours(-2), TimeArgument.Parse("2h", "--since", now));
        Assert.Equal(new DateTime(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc), TimeArgument.Parse("2026-11-30T08:00:00Z", "--since", now));
        Assert.Throws<FormatException>(() => TimeArgument.Parse("yesterday", "--since", now));
    }
}
