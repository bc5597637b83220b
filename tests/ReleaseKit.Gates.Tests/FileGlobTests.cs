using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Gates.Tests;

public sealed class FileGlobTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public FileGlobTests()
    {
        foreach (var file in new[]
        {
            "results.xml",
            "results.trx",
            "a/results.xml",
            "a/b/results.xml",
            "a/b/c/deep.trx",
            "a/b/c/notes.txt",
            "x1/r.xml",
            "x22/r.xml",
            ".hidden/r.xml",
        })
        {
            _temp.Write(file, "<x/>");
        }
    }

    public void Dispose() => _temp.Dispose();

    private string[] Match(params string[] patterns) =>
        [.. FileGlob.Match(_temp.Path, patterns).Select(p => Path.GetRelativePath(_temp.Path, p).Replace('\\', '/'))];

    [Fact]
    public void Star_matches_within_one_directory_only()
    {
        Assert.Equal(["results.trx", "results.xml"], Match("results.*"));
        Assert.Equal(["a/results.xml"], Match("*/results.xml"));
    }

    [Fact]
    public void Question_mark_matches_exactly_one_character()
    {
        Assert.Equal(["x1/r.xml"], Match("x?/r.xml"));
        Assert.Equal(["x22/r.xml"], Match("x??/r.xml"));
    }

    [Fact]
    public void Double_star_matches_zero_or_more_directories()
    {
        Assert.Equal([".hidden/r.xml", "a/b/results.xml", "a/results.xml", "results.xml", "x1/r.xml", "x22/r.xml"], Match("**/*.xml"));
        Assert.Equal(["a/b/c/deep.trx", "a/b/results.xml", "a/results.xml"], Match("a/**/*.*").Where(f => !f.EndsWith(".txt", StringComparison.Ordinal)));
        Assert.Equal(["a/b/c/deep.trx"], Match("a/**/c/*.trx"));
        Assert.Equal(["a/b/c/deep.trx", "results.trx"], Match("**/*.trx"));
    }

    [Fact]
    public void Trailing_double_star_matches_every_file_below()
    {
        Assert.Equal(["a/b/c/deep.trx", "a/b/c/notes.txt", "a/b/results.xml"], Match("a/b/**"));
    }

    [Fact]
    public void Overlapping_patterns_return_each_file_once_in_a_stable_order()
    {
        var matched = Match("**/*.xml", "a/*.xml", "a/results.xml");

        Assert.Equal(matched.Distinct().Count(), matched.Length);
        Assert.Equal(matched.Order(StringComparer.Ordinal), matched);
    }

    [Fact]
    public void Rooted_patterns_ignore_the_base_directory()
    {
        var rooted = Path.Combine(_temp.Path, "a", "*.xml");

        var matched = FileGlob.Match(Path.GetTempPath(), [rooted]);

        Assert.Equal([Path.Combine(_temp.Path, "a", "results.xml")], matched);
    }

    [Fact]
    public void A_pattern_matching_nothing_or_a_missing_directory_returns_no_files()
    {
        Assert.Empty(Match("missing/**/*.xml"));
        Assert.Empty(Match("*.json"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("results/")]
    public void Unusable_patterns_are_explained(string pattern)
    {
        Assert.NotNull(FileGlob.Validate(pattern));
    }

    [Property]
    public Property A_name_matches_itself_a_star_and_its_prefix_with_a_star(NonEmptyString text, PositiveInt cut)
    {
        var name = new string([.. text.Get.Where(c => c is not ('*' or '?'))]);
        if (name.Length == 0)
        {
            return true.ToProperty();
        }

        var prefix = name[..(cut.Get % name.Length)];
        var withQuestionMarks = new string([.. name.Select((c, i) => i % 2 == 0 ? '?' : c)]);
        return (FileGlob.IsMatch(name, name, StringComparison.Ordinal)
                && FileGlob.IsMatch(name, "*", StringComparison.Ordinal)
                && FileGlob.IsMatch(name, prefix + "*", StringComparison.Ordinal)
                && FileGlob.IsMatch(name, "*" + name[prefix.Length..], StringComparison.Ordinal)
                && FileGlob.IsMatch(name, withQuestionMarks, StringComparison.Ordinal)
                && !FileGlob.IsMatch(name, name + "?", StringComparison.Ordinal))
            .ToProperty();
    }
}
