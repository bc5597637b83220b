using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Gates.Tests;

public sealed class ManifestReaderTests
{
    internal const string Valid = """
        {
          "$schema": "https://releasekit.dev/schemas/release-manifest/v1.json",
          "schemaVersion": 1,
          "releaseId": "rel-2026-11-27-01",
          "version": "2026.11.3",
          "commit": "0123456789abcdef0123456789abcdef01234567",
          "artifactDigest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "buildTime": "2026-11-27T14:02:00Z",
          "author": "alice",
          "approvers": ["bob", "carol"],
          "changeClasses": ["SchemaMigration", "BillingLogic"],
          "migrations": ["202611270001", "202611270002"],
          "featureFlags": ["NewInvoiceExport"],
          "rollbackInstructions": "Redeploy 2026.11.2; migrations 202611270001-2 are Expand-only and stay."
        }
        """;

    [Fact]
    public async Task A_valid_file_is_read_with_every_field()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("release.json", Valid);

        var manifest = await ReleaseManifestReader.ReadFileAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal("rel-2026-11-27-01", manifest.ReleaseId);
        Assert.Equal("2026.11.3", manifest.Version);
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", manifest.Commit);
        Assert.StartsWith("sha256:", manifest.ArtifactDigest, StringComparison.Ordinal);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 14, 2, 0, TimeSpan.Zero), manifest.BuildTime);
        Assert.Equal("alice", manifest.Author);
        Assert.Equal(["bob", "carol"], manifest.Approvers);
        Assert.True(manifest.HasChangeClass("billinglogic"));
        Assert.Equal(2, manifest.Migrations.Count);
        Assert.Equal(["NewInvoiceExport"], manifest.FeatureFlags);
        Assert.Equal(path, manifest.Source);
    }

    [Theory]
    [InlineData("""{"releaseId": "r1"}""", "$.version", "Required property is missing")]
    [InlineData("""{"releaseId": "r1", "version": 3}""", "$.version", "Expected a string, found a number")]
    [InlineData("""{"releaseId": "r1", "version": "1.0", "approvers": "bob"}""", "$.approvers", "Expected an array of strings")]
    [InlineData("""{"releaseId": "r1", "version": "1.0", "approvers": ["bob", 7]}""", "$.approvers[1]", "Expected a string, found a number")]
    [InlineData("""{"releaseId": "r1", "version": "1.0", "approvers": ["bob", "bob"]}""", "$.approvers[1]", "appears more than once")]
    [InlineData("""{"releaseId": "r1", "version": "1.0", "Commit": "abc"}""", "$.Commit", "did you mean 'commit'")]
    [InlineData("""{"releaseId": "r1", "version": "1.0", "rollback": "x"}""", "$.rollback", "Unknown property")]
    [InlineData("""{"releaseId": "r1", "version": "1.0", "buildTime": "yesterday"}""", "$.buildTime", "ISO 8601")]
    [InlineData("""{"releaseId": "r1", "version": "1.0", "buildTime": "2026-11-27T14:02:00"}""", "$.buildTime", "with an offset")]
    [InlineData("""{"releaseId": "r1", "version": "1.0", "changeClasses": ["billing logic"]}""", "$.changeClasses[0]", "PascalCase")]
    [InlineData("""{"releaseId": "r1", "version": "1 0"}""", "$.version", "is not a version")]
    [InlineData("""{"releaseId": "", "version": "1.0"}""", "$.releaseId", "Must not be empty")]
    [InlineData("""{"releaseId": "r1", "version": "1.0", "schemaVersion": 2}""", "$.schemaVersion", "Unsupported schema version")]
    [InlineData("""[1, 2]""", "$", "Expected a JSON object, found an array")]
    public void Malformed_manifests_name_the_json_path_and_the_problem(string json, string path, string message)
    {
        var ex = Assert.Throws<ReleaseManifestException>(() => ReleaseManifestReader.Parse(json, "release.json"));

        Assert.Contains(ex.Errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Equal("release.json", ex.ManifestSource);
    }

    [Fact]
    public void Every_error_in_a_manifest_is_reported_at_once()
    {
        var ex = Assert.Throws<ReleaseManifestException>(() => ReleaseManifestReader.Parse("""{"version": 1, "approvers": {}, "x": true}"""));

        Assert.Equal(["$.approvers", "$.releaseId", "$.version", "$.x"], ex.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Invalid_json_reports_the_line_and_position()
    {
        var ex = Assert.Throws<ReleaseManifestException>(() => ReleaseManifestReader.Parse("{\n  \"releaseId\": \"r1\",\n  \"version\": \"1.0\",,\n}"));

        var error = Assert.Single(ex.Errors);
        Assert.Contains("Not valid JSON at line 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_file_is_a_manifest_error_with_the_full_path()
    {
        using var dir = new TempDirectory();
        var ex = await Assert.ThrowsAsync<ReleaseManifestException>(() => ReleaseManifestReader.ReadFileAsync(dir.File("nope.json"), TestContext.Current.CancellationToken));

        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
        Assert.Contains(dir.File("nope.json"), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_embedded_schema_lists_every_property_the_reader_knows()
    {
        using var schema = System.Text.Json.JsonDocument.Parse(ReleaseManifestSchema.GetText());
        var properties = schema.RootElement.GetProperty("properties").EnumerateObject().Select(p => p.Name).ToHashSet();

        foreach (var name in new[] { "releaseId", "version", "commit", "artifactDigest", "buildTime", "author", "approvers", "changeClasses", "migrations", "featureFlags", "rollbackInstructions", "schemaVersion" })
        {
            Assert.Contains(name, properties);
        }

        Assert.False(schema.RootElement.GetProperty("additionalProperties").GetBoolean());
        // every property the schema allows is accepted by the reader
        var json = "{" + string.Join(",", properties.Select(p => p switch
        {
            "releaseId" => "\"releaseId\":\"r\"",
            "version" => "\"version\":\"1.0\"",
            "schemaVersion" => "\"schemaVersion\":1",
            _ => $"\"{p}\":null",
        })) + "}";
        Assert.Equal("r", ReleaseManifestReader.Parse(json).ReleaseId);
    }
}
