using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Gates.Tests;

public sealed class ArtifactIdentityGateTests : IDisposable
{
    private static readonly string DigestA = ArtifactIdentityStoreTests.DigestA;
    private static readonly string DigestB = ArtifactIdentityStoreTests.DigestB;

    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 9, 30, 0, TimeSpan.Zero));

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> Stores => ArtifactIdentityStoreTests.Stores;

    private static ReleaseManifest Manifest(string? digest) => new()
    {
        ReleaseId = "run-42",
        Version = "2026.11.3",
        ArtifactDigest = digest,
        Source = "artifacts/release.json",
    };

    private async Task<GateResult> RunAsync(ReleaseManifest manifest, Action<IReleaseGatesBuilder> configure, string environment = "production")
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddReleaseKit().AddGates(configure);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        provider.GetRequiredService<IStartupValidator>().Validate();
        var report = await provider.GetRequiredService<IReleaseGateRunner>()
            .RunAsync(new GateRunRequest { Manifest = manifest, EnvironmentName = environment }, TestContext.Current.CancellationToken);
        return Assert.Single(report.Entries).Result;
    }

    private static string? Value(GateResult result, string name) => Assert.Single(result.Evidence, e => e.Name == name).Observed;

    private Task RecordStagingAsync(IArtifactRecordStore store, string digest) =>
        store.RecordAsync(ArtifactRecord.ForRelease(Manifest(digest), "staging", _time, "ci-job-7"), TestContext.Current.CancellationToken);

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task The_artifact_that_passed_staging_may_be_promoted(string kind)
    {
        await using var storage = await StoreUnderTest.CreateAsync(kind, _temp);
        await RecordStagingAsync(storage.Store, DigestA);

        var result = await RunAsync(Manifest(DigestA), g => storage.Register(g.AddArtifactIdentityGate()));

        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.Equal(DigestA, Value(result, "recorded_digest"));
        Assert.Equal("2026-11-27T09:30:00.0000000+00:00", Value(result, "recorded_at"));
        Assert.Equal("ci-job-7", Value(result, "recorded_by"));
        Assert.Contains("passed 'staging' on 2026-11-27 09:30:00Z", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_different_artifact_than_the_one_staging_recorded_fails_with_both_digests(string kind)
    {
        await using var storage = await StoreUnderTest.CreateAsync(kind, _temp);
        await RecordStagingAsync(storage.Store, DigestA);

        var result = await RunAsync(Manifest(DigestB), g => storage.Register(g.AddArtifactIdentityGate()));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal(DigestB, Value(result, "promoted_digest"));
        Assert.Equal(DigestA, Value(result, "recorded_digest"));
        var digest = Assert.Single(result.Evidence, e => e.Name == "artifact_digest");
        Assert.Equal((DigestB, DigestA), (digest.Observed, digest.Threshold));
        Assert.Contains($"({DigestB}) is not the one that passed 'staging' ({DigestA})", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_release_that_never_passed_staging_fails(string kind)
    {
        await using var storage = await StoreUnderTest.CreateAsync(kind, _temp);
        await storage.Store.RecordAsync(ArtifactRecord.ForRelease(Manifest(DigestA), "qa", _time), TestContext.Current.CancellationToken);

        var result = await RunAsync(Manifest(DigestA), g => storage.Register(g.AddArtifactIdentityGate()));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal("Release run-42 (2026.11.3) never passed 'staging': no artifact is recorded for it there.", result.Reason);
    }

    [Fact]
    public async Task The_source_environment_is_configurable()
    {
        var store = new ArtifactRecordFileStore(_temp.File("records.json"));
        await store.RecordAsync(ArtifactRecord.ForRelease(Manifest(DigestA), "qa", _time), TestContext.Current.CancellationToken);

        var result = await RunAsync(Manifest(DigestA), g => g.AddArtifactIdentityGate(o =>
        {
            o.SourceEnvironment = "QA";
            o.Store = store;
        }));

        Assert.Equal(Verdict.Pass, result.Verdict);
    }

    [Theory]
    [InlineData(null, "has no ArtifactDigest")]
    [InlineData("", "has no ArtifactDigest")]
    [InlineData("sha256:1234", "is malformed")]
    [InlineData("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "is malformed")]
    public async Task A_manifest_without_a_well_formed_digest_fails(string? digest, string expected)
    {
        var result = await RunAsync(Manifest(digest), g => g.AddArtifactIdentityGate().UseFileArtifactStore(_temp.File("records.json")));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Contains(expected, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Digests_of_different_algorithms_fail_with_a_hint()
    {
        var store = new ArtifactRecordFileStore(_temp.File("records.json"));
        await RecordStagingAsync(store, DigestA);

        var result = await RunAsync(Manifest("sha512:" + new string('a', 128)), g => g.AddArtifactIdentityGate(o => o.Store = store));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Contains("different algorithms, sha512 and sha256", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Running_for_the_source_environment_itself_fails()
    {
        var result = await RunAsync(Manifest(DigestA), g => g.AddArtifactIdentityGate().UseFileArtifactStore(_temp.File("records.json")), environment: "Staging");

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Contains("running for 'Staging' itself", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_store_file_fails_naming_the_file()
    {
        var path = _temp.Write("records.json", "{\"schemaVersion\": 1, \"records\": [");

        var result = await RunAsync(Manifest(DigestA), g => g.AddArtifactIdentityGate().UseFileArtifactStore(path));

        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Contains($"The artifact record file '{path}' is corrupt", result.Reason, StringComparison.Ordinal);
        Assert.Equal("InvalidDataException", Value(result, "error"));
    }

    [Fact]
    public async Task An_unreachable_database_is_inconclusive_with_a_readable_reason()
    {
        // Nothing listens on port 1: the connection is refused, as when the database is down.
        await using var unreachable = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=nobody;Timeout=3");

        var result = await RunAsync(Manifest(DigestA), g => g.AddArtifactIdentityGate().UseDbArtifactStore(unreachable));

        Assert.Equal(Verdict.Inconclusive, result.Verdict);
        Assert.StartsWith("The artifact record store (PostgreSQL table releasekit_artifact_records) did not answer:", result.Reason, StringComparison.Ordinal);
        Assert.EndsWith("Whether release run-42 (2026.11.3) passed 'staging' with this artifact is unknown.", result.Reason, StringComparison.Ordinal);
        Assert.Null(result.Error);
    }

    [Fact]
    public async Task A_gate_without_a_store_fails_at_startup()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => RunAsync(Manifest(DigestA), g => g.AddArtifactIdentityGate()));

        Assert.Contains("Artifact identity gate 'artifact-identity': no artifact record store is configured; call UseFileArtifactStore(path) or UseDbArtifactStore(dataSource)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" staging")]
    public async Task An_invalid_source_environment_fails_at_startup(string source)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            RunAsync(Manifest(DigestA), g => g.AddArtifactIdentityGate(o => o.SourceEnvironment = source).UseFileArtifactStore(_temp.File("r.json"))));

        Assert.Contains($"SourceEnvironment '{source}' is invalid", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_store_registered_last_is_the_one_used()
    {
        var first = _temp.File("first.json");
        var second = _temp.File("second.json");
        await RecordStagingAsync(new ArtifactRecordFileStore(second), DigestA);

        var result = await RunAsync(Manifest(DigestA), g => g.AddArtifactIdentityGate().UseFileArtifactStore(first).UseFileArtifactStore(second));

        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.Equal($"file '{second}'", Value(result, "store"));
    }

    [Fact]
    public async Task The_gate_and_a_recording_step_share_the_registered_store()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddReleaseKit().AddGates(g => g.AddArtifactIdentityGate().UseFileArtifactStore(_temp.File("records.json")));
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IArtifactRecordStore>();

        await store.RecordAsync(ArtifactRecord.ForRelease(Manifest(DigestA), "staging", provider.GetRequiredService<TimeProvider>()), TestContext.Current.CancellationToken);
        var report = await provider.GetRequiredService<IReleaseGateRunner>()
            .RunAsync(new GateRunRequest { Manifest = Manifest(DigestA), EnvironmentName = "production" }, TestContext.Current.CancellationToken);

        Assert.Equal(Verdict.Pass, report.Verdict);
    }
}
