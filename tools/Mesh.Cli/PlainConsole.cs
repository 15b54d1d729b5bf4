using Spectre.Console;

namespace Mesh.Cli;

/// <summary>
/// A Spectre console over any writer with no colours, no cursor tricks and a fixed width, so a report reads
/// the same in a terminal, a pipe, a CI log and a test.
/// </summary>
internal static class PlainConsole
{
    public static IAnsiConsole Create(TextWriter output, int width)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width;
        return console;
    }
}
