using System.Text.RegularExpressions;

namespace ZsCache.Sample.Tests;

/// <summary>The README's two commands are the ones CI runs and the ones that exist.</summary>
public partial class ReadmeTests
{
    private static readonly string Root = FindRoot();

    [Fact]
    public void Ci_runs_exactly_the_readme_test_command()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        var ci = File.ReadAllText(Path.Combine(Root, ".ci", "run"));
        var test = CommandAfter(readme, "Run the tests:");
        Assert.StartsWith("dotnet test ", test, StringComparison.Ordinal);

        // .ci/run pipes the command into its log; the command itself must be the README's.
        var ran = ci.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("dotnet test ", StringComparison.Ordinal));
        Assert.Equal(test, ran.Split('|')[0].Replace("2>&1", string.Empty, StringComparison.Ordinal).Trim());
    }

    [Fact]
    public void The_readme_sample_command_names_the_sample_project()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        var run = CommandAfter(readme, "Run the sample app:");
        var project = ProjectArgument().Match(run);
        Assert.True(project.Success, run);
        Assert.True(File.Exists(Path.Combine(Root, project.Groups[1].Value, "ZsCache.Sample.Web.csproj")), $"{run}: no such project");
    }

    /// <summary>The single line of the first fenced block after <paramref name="heading"/>.</summary>
    private static string CommandAfter(string readme, string heading)
    {
        var at = readme.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(at >= 0, $"README has no \"{heading}\"");
        var block = FencedBlock().Match(readme, at);
        Assert.True(block.Success, $"no code block after \"{heading}\"");
        return block.Groups[1].Value.Trim();
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ZsCache.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"ZsCache.sln not found above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"```sh\n(.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex FencedBlock();

    [GeneratedRegex(@"--project\s+(\S+)")]
    private static partial Regex ProjectArgument();
}
