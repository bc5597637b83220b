using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ReleaseKit.Gates;

/// <summary>
/// Reads <c>release.json</c>. Structural problems (not JSON, wrong types, unknown or duplicate properties,
/// unparseable dates, a missing id or version) throw a <see cref="ReleaseManifestException"/> that lists
/// every problem with its JSON path. Whether the content is complete enough to release is a gate's
/// question (the manifest completeness gate), not the reader's.
/// </summary>
public static class ReleaseManifestReader
{
    /// <summary>The schema version this reader understands.</summary>
    public const int SchemaVersion = 1;

    private const int MaxBytes = 1024 * 1024;

    private static readonly HashSet<string> KnownProperties = new(StringComparer.Ordinal)
    {
        "$schema", "schemaVersion", "releaseId", "version", "commit", "artifactDigest", "buildTime", "author",
        "approvers", "changeClasses", "migrations", "featureFlags", "rollbackInstructions",
    };

    /// <summary>Reads a manifest file.</summary>
    /// <param name="path">The file's path.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="ReleaseManifestException">The file is missing, too large, or invalid.</exception>
    public static async Task<ReleaseManifest> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new ReleaseManifestException(path, [new ManifestError("$", $"The file does not exist (full path: {info.FullName}).")]);
            }

            if (info.Length > MaxBytes)
            {
                throw new ReleaseManifestException(path, [new ManifestError("$", $"The file is {info.Length} bytes; a manifest may be at most {MaxBytes} bytes.")]);
            }

            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ReleaseManifestException(path, [new ManifestError("$", $"The file cannot be read: {ex.Message}")], ex);
        }

        return Parse(bytes, path);
    }

    /// <summary>Parses a manifest from JSON text.</summary>
    /// <param name="json">The JSON.</param>
    /// <param name="source">A name for the source, used in errors.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="ReleaseManifestException">The JSON is invalid.</exception>
    public static ReleaseManifest Parse(string json, string source = "release.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(Encoding.UTF8.GetBytes(json), source);
    }

    /// <summary>Parses a manifest from UTF-8 JSON.</summary>
    /// <param name="utf8Json">The JSON.</param>
    /// <param name="source">A name for the source, used in errors.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="ReleaseManifestException">The JSON is invalid.</exception>
    public static ReleaseManifest Parse(ReadOnlyMemory<byte> utf8Json, string source = "release.json")
    {
        ArgumentNullException.ThrowIfNull(source);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : string.Empty;
            throw new ReleaseManifestException(source, [new ManifestError(ex.Path ?? "$", $"Not valid JSON{where}: {FirstSentence(ex.Message)}")], ex);
        }

        using (document)
        {
            var errors = new List<ManifestError>();
            var manifest = Read(document.RootElement, source, errors);
            if (errors.Count > 0 || manifest is null)
            {
                throw new ReleaseManifestException(source, errors);
            }

            return manifest;
        }
    }

    private static ReleaseManifest? Read(JsonElement root, string source, List<ManifestError> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new ManifestError("$", $"Expected a JSON object, found {Describe(root.ValueKind)}."));
            return null;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                errors.Add(new ManifestError($"$.{property.Name}", "The property appears more than once."));
            }
            else if (!KnownProperties.Contains(property.Name))
            {
                var hint = KnownProperties.FirstOrDefault(k => string.Equals(k, property.Name, StringComparison.OrdinalIgnoreCase));
                errors.Add(new ManifestError($"$.{property.Name}", hint is null
                    ? $"Unknown property. Known properties: {string.Join(", ", KnownProperties.Where(k => k != "$schema"))}."
                    : $"Unknown property; did you mean '{hint}'? Property names are case-sensitive."));
            }
        }

        if (root.TryGetProperty("schemaVersion", out var schemaVersion))
        {
            if (schemaVersion.ValueKind != JsonValueKind.Number || !schemaVersion.TryGetInt32(out var v) || v != SchemaVersion)
            {
                errors.Add(new ManifestError("$.schemaVersion", $"Unsupported schema version {schemaVersion.GetRawText()}; this reader understands {SchemaVersion}."));
            }
        }

        var releaseId = RequiredString(root, "releaseId", errors);
        var version = RequiredString(root, "version", errors);
        if (version is not null && !ManifestFormats.IsVersion(version))
        {
            errors.Add(new ManifestError("$.version", $"'{version}' is not a version: use letters, digits, '.', '-', '+' or '_' (for example 2026.11.3 or 4.2.0-rc.1)."));
        }

        var buildTimeText = OptionalString(root, "buildTime", errors);
        DateTimeOffset? buildTime = null;
        if (buildTimeText is not null)
        {
            if (DateTimeOffset.TryParseExact(buildTimeText, ["yyyy-MM-ddTHH:mm:ssK", "yyyy-MM-ddTHH:mm:ss.FFFFFFFK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)
                && (buildTimeText.EndsWith('Z') || buildTimeText.Contains('+', StringComparison.Ordinal) || buildTimeText.LastIndexOf('-') > 10))
            {
                buildTime = parsed;
            }
            else
            {
                errors.Add(new ManifestError("$.buildTime", $"'{buildTimeText}' is not an ISO 8601 date-time with an offset (for example 2026-11-27T14:02:00Z)."));
            }
        }

        var changeClasses = StringArray(root, "changeClasses", errors);
        for (var i = 0; i < changeClasses.Count; i++)
        {
            if (!ManifestFormats.IsChangeClass(changeClasses[i]))
            {
                errors.Add(new ManifestError($"$.changeClasses[{i}]", $"'{changeClasses[i]}' is not a change class: use a PascalCase identifier such as {string.Join(", ", ChangeClasses.WellKnown)}."));
            }
        }

        var manifest = new ReleaseManifest
        {
            ReleaseId = releaseId ?? string.Empty,
            Version = version ?? string.Empty,
            Commit = OptionalString(root, "commit", errors),
            ArtifactDigest = OptionalString(root, "artifactDigest", errors),
            BuildTime = buildTime,
            Author = OptionalString(root, "author", errors),
            Approvers = StringArray(root, "approvers", errors),
            ChangeClasses = changeClasses,
            Migrations = StringArray(root, "migrations", errors),
            FeatureFlags = StringArray(root, "featureFlags", errors),
            RollbackInstructions = OptionalString(root, "rollbackInstructions", errors),
            Source = source,
        };
        return manifest;
    }

    private static string? RequiredString(JsonElement root, string name, List<ManifestError> errors)
    {
        if (!root.TryGetProperty(name, out _))
        {
            errors.Add(new ManifestError($"$.{name}", "Required property is missing."));
            return null;
        }

        var value = OptionalString(root, name, errors);
        if (value is not null && string.IsNullOrWhiteSpace(value))
        {
            errors.Add(new ManifestError($"$.{name}", "Must not be empty."));
            return null;
        }

        return value;
    }

    private static string? OptionalString(JsonElement root, string name, List<ManifestError> errors)
    {
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            errors.Add(new ManifestError($"$.{name}", $"Expected a string, found {Describe(element.ValueKind)}."));
            return null;
        }

        return element.GetString();
    }

    private static IReadOnlyList<string> StringArray(JsonElement root, string name, List<ManifestError> errors)
    {
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new ManifestError($"$.{name}", $"Expected an array of strings, found {Describe(element.ValueKind)}."));
            return [];
        }

        var values = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var index = 0;
        foreach (var item in element.EnumerateArray())
        {
            var path = $"$.{name}[{index}]";
            if (item.ValueKind != JsonValueKind.String)
            {
                errors.Add(new ManifestError(path, $"Expected a string, found {Describe(item.ValueKind)}."));
            }
            else if (item.GetString() is not { } text || string.IsNullOrWhiteSpace(text))
            {
                errors.Add(new ManifestError(path, "Must not be empty."));
            }
            else if (!seen.Add(text))
            {
                errors.Add(new ManifestError(path, $"'{text}' appears more than once."));
            }
            else
            {
                values.Add(text);
            }

            index++;
        }

        return values;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
