using System.Text.Json;
using System.Xml.Linq;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReleaseKit.Gates.Reporting;
using ReleaseKit.Testing;

namespace ReleaseKit.Gates.Tests;

public sealed class RedactionTests
{
    private const string Jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1rwW1gFWFOEjXk";
    private const string GitHubToken = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    private const string AwsKey = "AKIAIOSFODNN7EXAMPLE";

    [Theory]
    [InlineData("Host=db;Username=app;Password=hunter2;Database=billing", "hunter2", "Host=db;Username=app;Password=***;Database=billing")]
    [InlineData("Server=db;User Id=sa;pwd = 'it''s;secret';Encrypt=true", "it''s;secret", "Server=db;User Id=sa;pwd = '***';Encrypt=true")]
    [InlineData("Driver={ODBC Driver 18};PWD={s3cr;et};Server=x", "s3cr;et", "Driver={ODBC Driver 18};PWD={***};Server=x")]
    [InlineData("Password=\"a;b\";Host=db", "a;b", "Password=\"***\";Host=db")]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=bXlrZXk9PQ==;EndpointSuffix=core.windows.net", "bXlrZXk9PQ==", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=***;EndpointSuffix=core.windows.net")]
    [InlineData("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=abc123def456=", "abc123def456=", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=***")]
    [InlineData("client_secret=cs-998877 and then", "cs-998877", "client_secret=***")]
    [InlineData("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI", "AWS_SECRET_ACCESS_KEY=***")]
    [InlineData("DB_PASSWORD=hunter2", "hunter2", "DB_PASSWORD=***")]
    [InlineData("{\"client_secret\": \"xyz-123\", \"user\": \"bob\"}", "xyz-123", "{\"client_secret\": \"***\", \"user\": \"bob\"}")]
    [InlineData("password: hunter2 was rejected", "hunter2", "password: *** was rejected")]
    [InlineData("X-Api-Key: 0123abcd", "0123abcd", "X-Api-Key: ***")]
    [InlineData("GET https://api.example.com/v1?api_key=k123456&format=json", "k123456", "GET https://api.example.com/v1?api_key=***&format=json")]
    [InlineData("https://acct.blob.core.windows.net/c?sv=2024-01-01&sig=abcDEF%2B123", "abcDEF%2B123", "https://acct.blob.core.windows.net/c?sv=2024-01-01&sig=***")]
    [InlineData("Call failed: Authorization: Bearer abcdef0123456789", "abcdef0123456789", "Call failed: Authorization: Bearer ***")]
    [InlineData("sent bearer ya29.a0AfH6SMBx-y_z/9+= to the API", "ya29.a0AfH6SMBx-y_z/9+=", "sent bearer *** to the API")]
    [InlineData("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", "Authorization: Basic ***")]
    [InlineData("postgres://app:s3cret@db.internal:5432/billing", "s3cret", "postgres://app:***@db.internal:5432/billing")]
    [InlineData("see https://user:p@ss@host.example/path for details", "p@ss", "see https://user:***@host.example/path for details")]
    [InlineData("redis://:r3dis@cache:6379", "r3dis", "redis://:***@cache:6379")]
    [InlineData("id_token " + Jwt + " expired", Jwt, "id_token *** expired")]
    [InlineData("key " + AwsKey + " is not allowed", AwsKey, "key *** is not allowed")]
    [InlineData("token " + GitHubToken, GitHubToken, "token ***")]
    [InlineData("pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "pat ***")]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA", "***")]
    public void Credentials_are_masked_and_the_rest_stays_readable(string input, string secret, string expected)
    {
        var redacted = SecretRedactor.Redact(input);
        Assert.Equal(expected, redacted);
        Assert.DoesNotContain(secret, redacted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2026.11.3")]
    [InlineData("1.2.3-beta.4+build.5")]
    [InlineData(ReportSamples.Digest)]
    [InlineData("sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")]
    [InlineData(ReportSamples.Commit)]
    [InlineData("Needs 2 approvers who are not the author; has 1.")]
    [InlineData("p99 = 420ms (threshold 300ms)")]
    [InlineData("https://example.com/releases/42?page=2&sort=asc")]
    [InlineData("ssh://git@github.com/org/repo.git")]
    [InlineData("git@github.com:org/repo.git")]
    [InlineData("https://host.example:8443/health")]
    [InlineData("max_tokens=4096")]
    [InlineData("The token expired; secret rotation is due in 3 days.")]
    [InlineData("Basic checks passed.")]
    [InlineData("SharedAccessKeyName=RootManageSharedAccessKey")]
    [InlineData("Host=db;Port=5432;Username=app;Database=billing")]
    [InlineData("eyJ is how base64 JSON starts")]
    [InlineData("AKIA is the prefix of an access key id")]
    [InlineData("migration 202611030915_add_invoice_index")]
    [InlineData("")]
    public void Ordinary_values_are_left_alone_without_a_copy(string value)
    {
        Assert.Same(value, SecretRedactor.Redact(value));
    }

    [Fact]
    public void Scanning_a_value_with_nothing_to_mask_allocates_nothing()
    {
        const string value = "Needs 2 approvers who are not the author; has 1. Artifact " + ReportSamples.Digest;
        Assert.Same(value, SecretRedactor.Redact(value));

        // Tiered JIT can allocate once while it recompiles the method mid-loop; an allocation in Redact itself shows up
        // in every trial, so the fewest bytes over several trials is the method's own cost.
        var fewest = long.MaxValue;
        for (var trial = 0; trial < 5; trial++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100; i++)
            {
                SecretRedactor.Redact(value);
            }

            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
    }

    [Fact]
    public void Null_stays_null()
    {
        Assert.Null(SecretRedactor.Redact(null));
    }

    [Property(Arbitrary = [typeof(SecretArbitraries)])]
    public bool A_connection_string_password_never_survives(Password password) =>
        SecretRedactor.Redact($"Server=db;Password={password.Value};Database=x") == "Server=db;Password=***;Database=x";

    [Property(Arbitrary = [typeof(SecretArbitraries)])]
    public bool A_url_password_never_survives(UrlPassword password) =>
        SecretRedactor.Redact($"postgres://app:{password.Value}@db.internal/billing") == "postgres://app:***@db.internal/billing";

    [Property]
    public bool Redaction_is_idempotent(string? value)
    {
        var once = SecretRedactor.Redact(value);
        return SecretRedactor.Redact(once) == once;
    }

    [Fact]
    public void Seeded_secrets_appear_in_no_format_while_ordinary_values_do()
    {
        var report = SeededReport();
        using var temp = new TempDirectory();
        foreach (var format in ReportSamples.AllFormats)
        {
            var output = ReportSamples.WriteFile(temp, report, format);
            foreach (var secret in Seeded)
            {
                Assert.False(output.Contains(secret, StringComparison.Ordinal), $"{format} report contains the secret '{secret}':\n{output}");
            }

            Assert.Contains(ReportSamples.Version, output, StringComparison.Ordinal);
            Assert.Contains(ReportSamples.Digest, output, StringComparison.Ordinal);
            Assert.Contains(ReportSamples.Commit, output, StringComparison.Ordinal);
            Assert.Contains("Username=app", output, StringComparison.Ordinal);
            Assert.Contains("db.internal:5432", output, StringComparison.Ordinal);
            Assert.Contains("api-token", output, StringComparison.Ordinal);
            Assert.Contains(format == GateReportFormat.Markdown ? @"\*\*\*" : "***", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Seeded_secrets_are_absent_from_every_parsed_json_and_xml_value()
    {
        // Parsing undoes escaping, so a secret hidden behind \u002B or &amp; would still be found.
        var report = SeededReport();
        using var temp = new TempDirectory();
        using var json = JsonDocument.Parse(ReportSamples.WriteFile(temp, report, GateReportFormat.Json));
        var xml = XDocument.Parse(ReportSamples.WriteFile(temp, report, GateReportFormat.JUnit));
        var values = JsonStrings(json.RootElement)
            .Concat(xml.Descendants().SelectMany(e => e.Attributes()).Select(a => a.Value))
            .Concat(xml.Descendants().SelectMany(e => e.Nodes().OfType<XText>()).Select(t => t.Value))
            .ToList();
        Assert.NotEmpty(values);
        foreach (var secret in Seeded)
        {
            Assert.DoesNotContain(values, v => v.Contains(secret, StringComparison.Ordinal));
        }

        var sensitive = json.RootElement.GetProperty("rounds")[0].GetProperty("entries")[0].GetProperty("evidence")[0];
        Assert.Equal("api-token", sensitive.GetProperty("name").GetString());
        Assert.Equal("***", sensitive.GetProperty("observed").GetString());
        Assert.True(sensitive.GetProperty("sensitive").GetBoolean());
    }

    [Fact]
    public void A_sensitive_value_echoed_elsewhere_in_the_report_is_masked_there_too()
    {
        var report = ReportSamples.Report(
        [
            ReportSamples.Entry("login", GateResult.Fail("The API refused key zq-9931-Lm.", Evidence.Secret("key", "zq-9931-Lm"))),
            ReportSamples.Entry("other", GateResult.Pass("Used zq-9931-Lm to sign in.")),
        ]);
        using var writer = new StringWriter();
        GateReportWriter.Write(report, GateReportFormat.Text, writer);
        var text = writer.ToString();
        Assert.DoesNotContain("zq-9931-Lm", text, StringComparison.Ordinal);
        Assert.Contains("The API refused key ***.", text, StringComparison.Ordinal);
        Assert.Contains("Used *** to sign in.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_sensitive_value_is_masked_where_declared_but_not_searched_for_elsewhere()
    {
        // Replacing "on" everywhere would mangle the report; the value itself is still never printed.
        var report = ReportSamples.Report([ReportSamples.Entry("flag", GateResult.Pass("Feature is on.", Evidence.Secret("state", "on")))]);
        using var temp = new TempDirectory();
        using var json = JsonDocument.Parse(ReportSamples.WriteFile(temp, report, GateReportFormat.Json));
        var entry = json.RootElement.GetProperty("rounds")[0].GetProperty("entries")[0];
        Assert.Equal("***", entry.GetProperty("evidence")[0].GetProperty("observed").GetString());
        Assert.Equal("Feature is on.", entry.GetProperty("reason").GetString());
    }

    [Property(Arbitrary = [typeof(SecretArbitraries)])]
    public bool A_sensitive_value_appears_in_no_format(SensitiveValue secret)
    {
        var report = ReportSamples.Report(
        [
            ReportSamples.Entry("vault", GateResult.Fail($"Vault returned {secret.Value} for the lease.", Evidence.Secret("lease", secret.Value, source: "vault"))),
            ReportSamples.Entry("ok", GateResult.Pass()),
        ]);
        foreach (var format in ReportSamples.AllFormats)
        {
            using var writer = new StringWriter();
            GateReportWriter.Write(report, format, writer);
            var output = writer.ToString();
            if (output.Contains(secret.Value, StringComparison.Ordinal))
            {
                return false;
            }

            if (format == GateReportFormat.Json)
            {
                using var json = JsonDocument.Parse(output);
                if (JsonStrings(json.RootElement).Any(v => v.Contains(secret.Value, StringComparison.Ordinal)))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static readonly string[] Seeded =
    [
        "tok-SENSITIVE-1234",
        "Hunter2-PG",
        "UrlPass-99",
        "BearerTok-abcdef123456",
        Jwt,
        GitHubToken,
        AwsKey,
        "CiPass-77",
        "ErrPass-55",
    ];

    private static GateReport SeededReport()
    {
        var manifest = new ReleaseManifest
        {
            ReleaseId = ReportSamples.ReleaseId,
            Version = ReportSamples.Version,
            Commit = ReportSamples.Commit,
            ArtifactDigest = ReportSamples.Digest,
            Author = "alice",
            RollbackInstructions = $"Run: deploy --rollback --token {GitHubToken}",
            Source = "https://ci:CiPass-77@ci.example.com/release.json",
        };
        var entries = new[]
        {
            ReportSamples.Entry("api", GateResult.Fail(
                "Call failed with Authorization: Bearer BearerTok-abcdef123456",
                Evidence.Secret("api-token", "tok-SENSITIVE-1234"),
                Evidence.Of("connection", "Host=db.internal:5432;Username=app;Password=Hunter2-PG;Database=billing", source: "postgres://svc:UrlPass-99@db.internal:5432/billing"))),
            ReportSamples.Entry("echo", GateResult.Warn("Retried with tok-SENSITIVE-1234 after a 401.", Evidence.Of("session", Jwt)), severity: GateSeverity.Advisory),
            ReportSamples.Entry("thrower", GateResult.FromException(new InvalidOperationException("Login failed: password=ErrPass-55"))),
            ReportSamples.Entry("dry", GateResult.Fail($"Key {AwsKey} is in the config."), dryRun: true),
        };
        var round = new GateRound(1, ReportSamples.Start, TimeSpan.FromSeconds(1), entries);
        return new GateReport(manifest, "production", [GateStage.Promotion], [round], ReportSamples.Start, ReportSamples.Start.AddSeconds(1), round.Verdict, $"2 gates blocked the release; one saw Password=Hunter2-PG.", sampled: true);
    }

    private static IEnumerable<string> JsonStrings(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => JsonStrings(p.Value).Prepend(p.Name)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(JsonStrings),
        JsonValueKind.String => [element.GetString()!],
        _ => [],
    };
}

/// <summary>A connection-string password: no ';', quote, brace or whitespace (those end or quote the value).</summary>
public sealed record Password(string Value);

/// <summary>A URL user-info password: no '/', '?', '#' or whitespace (those end the authority).</summary>
public sealed record UrlPassword(string Value);

/// <summary>A random secret of 8 to 40 characters, from an alphabet no report format escapes.</summary>
public sealed record SensitiveValue(string Value);

public static class SecretArbitraries
{
    private static Gen<string> StringOf(string alphabet, int min, int max) =>
        Gen.Choose(min, max).SelectMany(length => Gen.Elements(alphabet.ToCharArray()).ArrayOf(length)).Select(chars => new string(chars));

    private const string Alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static Arbitrary<Password> Password() =>
        StringOf(Alphanumeric + "-._~!$&()*+,=:%@/?#^", 1, 40).Select(s => new Password(s)).ToArbitrary();

    public static Arbitrary<UrlPassword> UrlPassword() =>
        StringOf(Alphanumeric + "-._~!$&'()*+,;=:%@", 1, 40).Select(s => new UrlPassword(s)).ToArbitrary();

    public static Arbitrary<SensitiveValue> SensitiveValue() =>
        StringOf(Alphanumeric + "-.:;,=/%$^@(){}", 8, 40).Select(s => new SensitiveValue(s)).ToArbitrary();
}
