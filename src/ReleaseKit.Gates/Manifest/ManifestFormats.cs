using System.Text.RegularExpressions;

namespace ReleaseKit.Gates;

/// <summary>The well-formedness rules for manifest fields, shared by the reader and the completeness gate.</summary>
internal static partial class ManifestFormats
{
    public static bool IsVersion(string? value) => value is not null && VersionRegex().IsMatch(value);

    public static bool IsCommit(string? value) => value is not null && CommitRegex().IsMatch(value);

    public static bool IsArtifactDigest(string? value)
    {
        if (value is null)
        {
            return false;
        }

        var match = DigestRegex().Match(value);
        if (!match.Success)
        {
            return false;
        }

        var hexLength = match.Groups[2].Length;
        return match.Groups[1].Value switch
        {
            "sha256" => hexLength == 64,
            "sha384" => hexLength == 96,
            "sha512" => hexLength == 128,
            _ => false,
        };
    }

    public static bool IsMigrationId(string? value) => value is not null && MigrationIdRegex().IsMatch(value);

    public static bool IsChangeClass(string? value) => value is not null && ChangeClassRegex().IsMatch(value);

    public static bool IsIdentifier(string? value) => !string.IsNullOrWhiteSpace(value) && value.Length <= 200 && value.Trim() == value;

    [GeneratedRegex(@"^[0-9A-Za-z][0-9A-Za-z.\-+_]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionRegex();

    [GeneratedRegex("^([0-9a-f]{40}|[0-9a-f]{64})$", RegexOptions.CultureInvariant)]
    private static partial Regex CommitRegex();

    [GeneratedRegex("^(sha256|sha384|sha512):([0-9a-f]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex DigestRegex();

    [GeneratedRegex(@"^[0-9A-Za-z][0-9A-Za-z._\-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex MigrationIdRegex();

    [GeneratedRegex("^[A-Z][A-Za-z0-9]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex ChangeClassRegex();
}
