namespace ReleaseKit.Gates;

/// <summary>
/// A small file glob matcher: <c>*</c> matches any run of characters within one path segment, <c>?</c> one
/// character, and a segment of exactly <c>**</c> any number of directories (zero included). Both <c>/</c> and
/// <c>\</c> separate segments. Relative patterns are resolved against a base directory; rooted patterns are
/// taken as they are. Names are compared ordinally, ignoring case on Windows and macOS.
/// </summary>
/// <remarks>
/// Wildcards match names that start with a dot too (unlike a shell). <c>**</c> does not follow symbolic links to
/// directories, so a link cycle cannot make it loop; a link named literally in a pattern is followed.
/// </remarks>
internal static class FileGlob
{
    private static readonly char[] Separators = ['/', '\\'];

    private static readonly EnumerationOptions Enumeration = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = true,
        AttributesToSkip = 0,
        ReturnSpecialDirectories = false,
        MatchType = MatchType.Simple,
    };

    private static StringComparison NameComparison =>
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>Returns why <paramref name="pattern"/> is not a usable glob, or <see langword="null"/> when it is.</summary>
    /// <param name="pattern">The pattern.</param>
    /// <returns>The problem, or <see langword="null"/>.</returns>
    public static string? Validate(string? pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern))
        {
            return "a pattern is empty";
        }

        if (pattern.IndexOfAny(Path.GetInvalidPathChars()) >= 0 || pattern.Contains('\0', StringComparison.Ordinal))
        {
            return $"pattern '{pattern}' contains a character that is not allowed in a path";
        }

        if (pattern[^1] is '/' or '\\')
        {
            return $"pattern '{pattern}' ends with a separator; it must name files (for example '{pattern}*.xml')";
        }

        return null;
    }

    /// <summary>Returns the files matched by any of <paramref name="patterns"/>, as full paths, without duplicates, sorted ordinally.</summary>
    /// <param name="baseDirectory">The directory relative patterns start from.</param>
    /// <param name="patterns">The patterns.</param>
    /// <returns>The matched files.</returns>
    public static IReadOnlyList<string> Match(string baseDirectory, IEnumerable<string> patterns)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(baseDirectory);
        ArgumentNullException.ThrowIfNull(patterns);
        var comparer = NameComparison == StringComparison.Ordinal ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;
        var results = new HashSet<string>(comparer);
        foreach (var pattern in patterns)
        {
            if (Validate(pattern) is { } problem)
            {
                throw new ArgumentException($"Invalid glob: {problem}.", nameof(patterns));
            }

            string start;
            string rest;
            if (Path.IsPathRooted(pattern))
            {
                var root = Path.GetPathRoot(pattern)!;
                start = root;
                rest = pattern[root.Length..];
            }
            else
            {
                start = Path.GetFullPath(baseDirectory);
                rest = pattern;
            }

            var segments = rest.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
            if (segments.Length == 0 || !Directory.Exists(start))
            {
                continue;
            }

            Walk(start, segments, 0, results);
        }

        var list = results.Select(Path.GetFullPath).Distinct(comparer).ToList();
        list.Sort(StringComparer.Ordinal);
        return list;
    }

    /// <summary>Whether <paramref name="name"/> matches one segment's <paramref name="pattern"/> (<c>*</c> and <c>?</c>).</summary>
    /// <param name="name">A file or directory name.</param>
    /// <param name="pattern">A segment of a glob.</param>
    /// <returns><see langword="true"/> when it matches.</returns>
    public static bool IsMatch(string name, string pattern) => IsMatch(name.AsSpan(), pattern.AsSpan(), NameComparison);

    internal static bool IsMatch(ReadOnlySpan<char> name, ReadOnlySpan<char> pattern, StringComparison comparison)
    {
        // Greedy matching with one backtrack point: the position after the last '*' seen.
        int n = 0, p = 0, starP = -1, starN = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                starP = ++p;
                starN = n;
            }
            else if (p < pattern.Length && (pattern[p] == '?' || name.Slice(n, 1).Equals(pattern.Slice(p, 1), comparison)))
            {
                n++;
                p++;
            }
            else if (starP >= 0)
            {
                p = starP;
                n = ++starN;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static bool HasWildcard(string segment) => segment.AsSpan().IndexOfAny('*', '?') >= 0;

    private static void Walk(string directory, string[] segments, int index, HashSet<string> results)
    {
        var segment = segments[index];
        var isLast = index == segments.Length - 1;
        if (segment == "**")
        {
            if (isLast)
            {
                // "dir/**" means every file below dir.
                AddFilesRecursively(directory, results);
                return;
            }

            Walk(directory, segments, index + 1, results);
            foreach (var child in EnumerateDirectories(directory, followLinks: false))
            {
                Walk(child, segments, index, results);
            }

            return;
        }

        if (!HasWildcard(segment))
        {
            var path = Path.Combine(directory, segment);
            if (isLast)
            {
                if (File.Exists(path))
                {
                    results.Add(path);
                }
            }
            else if (Directory.Exists(path))
            {
                Walk(path, segments, index + 1, results);
            }

            return;
        }

        if (isLast)
        {
            foreach (var file in EnumerateFiles(directory))
            {
                if (IsMatch(Path.GetFileName(file), segment))
                {
                    results.Add(file);
                }
            }

            return;
        }

        foreach (var child in EnumerateDirectories(directory, followLinks: true))
        {
            if (IsMatch(Path.GetFileName(child), segment))
            {
                Walk(child, segments, index + 1, results);
            }
        }
    }

    private static void AddFilesRecursively(string directory, HashSet<string> results)
    {
        foreach (var file in EnumerateFiles(directory))
        {
            results.Add(file);
        }

        foreach (var child in EnumerateDirectories(directory, followLinks: false))
        {
            AddFilesRecursively(child, results);
        }
    }

    private static IEnumerable<string> EnumerateFiles(string directory)
    {
        try
        {
            return Directory.EnumerateFiles(directory, "*", Enumeration).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static IEnumerable<string> EnumerateDirectories(string directory, bool followLinks)
    {
        try
        {
            var info = new DirectoryInfo(directory);
            return info.EnumerateDirectories("*", Enumeration)
                .Where(d => followLinks || d.LinkTarget is null)
                .Select(d => d.FullName)
                .ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
