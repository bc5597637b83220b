namespace ReleaseKit.Gates;

/// <summary>The JSON schema of <c>release.json</c>, embedded in the assembly (and shipped as a content file).</summary>
public static class ReleaseManifestSchema
{
    /// <summary>Returns the schema's text.</summary>
    /// <returns>The JSON schema.</returns>
    public static string GetText()
    {
        using var stream = typeof(ReleaseManifestSchema).Assembly.GetManifestResourceStream("ReleaseKit.Gates.release-manifest.schema.json")
            ?? throw new InvalidOperationException("The release manifest schema is missing from the ReleaseKit.Gates assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
