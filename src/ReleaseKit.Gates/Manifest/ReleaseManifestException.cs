namespace ReleaseKit.Gates;

/// <summary>A problem found in a release manifest: where (a JSON path such as <c>$.approvers[1]</c>) and what.</summary>
/// <param name="Path">The JSON path of the offending value, or <c>$</c> for the document.</param>
/// <param name="Message">What is wrong and what is expected.</param>
public sealed record ManifestError(string Path, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>Thrown when a release manifest cannot be read: the file is missing, is not JSON, or does not match the schema.</summary>
public sealed class ReleaseManifestException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ReleaseManifestException()
        : this("The release manifest is invalid.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public ReleaseManifestException(string message)
        : base(message)
    {
        Errors = [];
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ReleaseManifestException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    /// <summary>Creates the exception from the errors found.</summary>
    /// <param name="source">The file or name the manifest came from.</param>
    /// <param name="errors">The errors.</param>
    /// <param name="innerException">The cause, if any.</param>
    public ReleaseManifestException(string source, IReadOnlyList<ManifestError> errors, Exception? innerException = null)
        : base(FormatMessage(source, errors), innerException)
    {
        ManifestSource = source;
        Errors = errors;
    }

    /// <summary>Gets the file or name the manifest came from.</summary>
    public string? ManifestSource { get; }

    /// <summary>Gets every problem found, each with its JSON path.</summary>
    public IReadOnlyList<ManifestError> Errors { get; }

    private static string FormatMessage(string source, IReadOnlyList<ManifestError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var lines = errors.Select(e => "  " + e);
        return $"The release manifest '{source}' is invalid ({errors.Count} error{(errors.Count == 1 ? string.Empty : "s")}):{Environment.NewLine}{string.Join(Environment.NewLine, lines)}";
    }
}
