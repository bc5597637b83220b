using System.Data.Common;
using FsCheck.Xunit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using ReleaseKit.Gates;
using ReleaseKit.Testing;

namespace ReleaseKit.Gates.Tests;

/// <summary>The same contract, checked against the JSON file store, SQLite and PostgreSQL.</summary>
public sealed class ArtifactIdentityStoreTests : IDisposable
{
    internal static readonly string DigestA = "sha256:" + new string('a', 64);
    internal static readonly string DigestB = "sha256:" + new string('b', 64);

    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 9, 30, 0, TimeSpan.Zero));

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> Stores => ["file", "sqlite", "postgres"];

    private ArtifactRecord Record(string digest, string releaseId = "run-42", string version = "2026.11.3", string environment = "staging", string? by = "ci") =>
        new(releaseId, version, environment, digest, _time.GetUtcNow(), by);

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_recorded_artifact_is_found_again_with_the_environment_case_insensitive(string kind)
    {
        await using var storage = await StoreUnderTest.CreateAsync(kind, _temp);
        var record = Record(DigestA, environment: "Staging");

        var stored = await storage.Store.RecordAsync(record, TestContext.Current.CancellationToken);
        var found = await storage.Store.FindAsync("run-42", "2026.11.3", "STAGING", TestContext.Current.CancellationToken);

        Assert.Equal(record, stored);
        Assert.Equal(record, found);
        Assert.Equal("staging", found!.Environment);
        Assert.Equal(_time.GetUtcNow(), found.RecordedAt);
        Assert.Equal("ci", found.RecordedBy);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Recording_the_same_digest_again_is_idempotent_and_keeps_the_first_time(string kind)
    {
        await using var storage = await StoreUnderTest.CreateAsync(kind, _temp);
        var first = await storage.Store.RecordAsync(Record(DigestA), TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromHours(2));

        var again = await storage.Store.RecordAsync(Record(DigestA, by: "someone else"), TestContext.Current.CancellationToken);

        Assert.Equal(first, again);
        Assert.Equal(first, await storage.Store.FindAsync("run-42", "2026.11.3", "staging", TestContext.Current.CancellationToken));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Recording_another_digest_is_refused_because_an_artifact_is_immutable(string kind)
    {
        await using var storage = await StoreUnderTest.CreateAsync(kind, _temp);
        var first = await storage.Store.RecordAsync(Record(DigestA), TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<ArtifactRecordConflictException>(() => storage.Store.RecordAsync(Record(DigestB), TestContext.Current.CancellationToken));

        Assert.Equal(first, error.Existing);
        Assert.Equal(DigestB, error.Attempted!.ArtifactDigest);
        Assert.Contains(DigestA, error.Message, StringComparison.Ordinal);
        Assert.Contains(DigestB, error.Message, StringComparison.Ordinal);
        Assert.Contains("immutable", error.Message, StringComparison.Ordinal);
        Assert.Equal(first, await storage.Store.FindAsync("run-42", "2026.11.3", "staging", TestContext.Current.CancellationToken));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Records_are_kept_per_release_version_and_environment(string kind)
    {
        await using var storage = await StoreUnderTest.CreateAsync(kind, _temp);
        var token = TestContext.Current.CancellationToken;
        await storage.Store.RecordAsync(Record(DigestA), token);
        await storage.Store.RecordAsync(Record(DigestB, version: "2026.11.4"), token);
        await storage.Store.RecordAsync(Record(DigestB, environment: "production"), token);

        Assert.Equal(DigestA, (await storage.Store.FindAsync("run-42", "2026.11.3", "staging", token))!.ArtifactDigest);
        Assert.Equal(DigestB, (await storage.Store.FindAsync("run-42", "2026.11.4", "staging", token))!.ArtifactDigest);
        Assert.Equal(DigestB, (await storage.Store.FindAsync("run-42", "2026.11.3", "production", token))!.ArtifactDigest);
        Assert.Null(await storage.Store.FindAsync("run-43", "2026.11.3", "staging", token));
        Assert.Null(await storage.Store.FindAsync("run-42", "2026.11.3", "qa", token));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Another_store_on_the_same_storage_sees_the_record(string kind)
    {
        await using var storage = await StoreUnderTest.CreateAsync(kind, _temp);
        await storage.Store.RecordAsync(Record(DigestA), TestContext.Current.CancellationToken);

        var other = storage.CreateAnother();

        Assert.Equal(DigestA, (await other.FindAsync("run-42", "2026.11.3", "staging", TestContext.Current.CancellationToken))!.ArtifactDigest);
        await Assert.ThrowsAsync<ArtifactRecordConflictException>(() => other.RecordAsync(Record(DigestB), TestContext.Current.CancellationToken));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Of_two_concurrent_records_with_different_digests_exactly_one_wins(string kind)
    {
        await using var storage = await StoreUnderTest.CreateAsync(kind, _temp);
        var left = storage.CreateAnother();
        var right = storage.CreateAnother();

        for (var i = 0; i < 8; i++)
        {
            var releaseId = $"race-{i}";
            using var start = new ManualResetEventSlim();
            var a = Task.Run(() => { start.Wait(TestContext.Current.CancellationToken); return left.RecordAsync(Record(DigestA, releaseId), TestContext.Current.CancellationToken); }, TestContext.Current.CancellationToken);
            var b = Task.Run(() => { start.Wait(TestContext.Current.CancellationToken); return right.RecordAsync(Record(DigestB, releaseId), TestContext.Current.CancellationToken); }, TestContext.Current.CancellationToken);
            start.Set();
            var outcomes = await Task.WhenAll(Outcome(a), Outcome(b));

            var winner = Assert.Single(outcomes, o => o.Record is not null).Record!;
            var loser = Assert.Single(outcomes, o => o.Error is not null).Error!;
            Assert.IsType<ArtifactRecordConflictException>(loser);
            Assert.Equal(winner, ((ArtifactRecordConflictException)loser).Existing);
            Assert.Equal(winner.ArtifactDigest, (await storage.Store.FindAsync(releaseId, "2026.11.3", "staging", TestContext.Current.CancellationToken))!.ArtifactDigest);
        }
    }

    private static async Task<(ArtifactRecord? Record, Exception? Error)> Outcome(Task<ArtifactRecord> task)
    {
        try
        {
            return (await task, null);
        }
        catch (ArtifactRecordConflictException ex)
        {
            return (null, ex);
        }
    }

    [Property(MaxTest = 30)]
    public async Task The_first_digest_recorded_for_a_key_wins_and_every_later_different_one_is_refused(byte[] steps)
    {
        using var temp = new TempDirectory();
        var store = new ArtifactRecordFileStore(temp.File("records.json"));
        var model = new Dictionary<string, string>();
        foreach (var step in steps.Take(12))
        {
            // The low bits pick one of three releases, the high bit the digest.
            var releaseId = $"r{step % 3}";
            var digest = step >= 128 ? DigestB : DigestA;
            var expectRefusal = model.TryGetValue(releaseId, out var first) && first != digest;
            model.TryAdd(releaseId, digest);
            if (expectRefusal)
            {
                await Assert.ThrowsAsync<ArtifactRecordConflictException>(() => store.RecordAsync(Record(digest, releaseId), TestContext.Current.CancellationToken));
            }
            else
            {
                Assert.Equal(digest, (await store.RecordAsync(Record(digest, releaseId), TestContext.Current.CancellationToken)).ArtifactDigest);
            }
        }

        var reopened = new ArtifactRecordFileStore(temp.File("records.json"));
        foreach (var (releaseId, digest) in model)
        {
            Assert.Equal(digest, (await reopened.FindAsync(releaseId, "2026.11.3", "staging", TestContext.Current.CancellationToken))?.ArtifactDigest);
        }
    }

    // ---- the file store ----

    [Fact]
    public async Task The_file_store_writes_readable_json_and_leaves_no_temporary_files()
    {
        var path = _temp.File("state/records.json");
        var store = new ArtifactRecordFileStore(path, _time);

        await store.RecordAsync(Record(DigestA), TestContext.Current.CancellationToken);
        await store.RecordAsync(Record(DigestB, version: "2026.11.4", by: null), TestContext.Current.CancellationToken);

        var json = await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken);
        Assert.Contains("\"schemaVersion\": 1", json, StringComparison.Ordinal);
        Assert.Contains($"\"artifactDigest\": \"{DigestA}\"", json, StringComparison.Ordinal);
        Assert.Contains("\"recordedAt\": \"2026-11-27T09:30:00.0000000Z\"", json, StringComparison.Ordinal);
        Assert.Equal(["records.json", "records.json.lock"], Directory.GetFiles(_temp.File("state")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_missing_file_is_an_empty_store()
    {
        var store = new ArtifactRecordFileStore(_temp.File("none/records.json"));

        Assert.Null(await store.FindAsync("run-42", "2026.11.3", "staging", TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData("{\n  \"schemaVersion\": 1,\n  \"records\": [ {\"releaseId\": \"r\"", "not valid JSON at line 3")]
    [InlineData("[]", "the root is a JSON array")]
    [InlineData("{\"schemaVersion\": 2, \"records\": []}", "$.schemaVersion is 2")]
    [InlineData("{\"schemaVersion\": 1, \"records\": [{\"releaseId\": \"r\", \"version\": \"1\", \"environment\": \"staging\", \"recordedAt\": \"2026-01-01T00:00:00Z\"}]}", "$.records[0].artifactDigest is missing")]
    [InlineData("{\"schemaVersion\": 1, \"records\": [{\"releaseId\": \"r\", \"version\": \"1\", \"environment\": \"staging\", \"artifactDigest\": \"md5:00\", \"recordedAt\": \"2026-01-01T00:00:00Z\"}]}", "$.records[0] is invalid")]
    [InlineData("{\"schemaVersion\": 1, \"records\": [{\"releaseId\": \"r\", \"version\": \"1\", \"environment\": \"staging\", \"artifactDigest\": \"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"recordedAt\": \"yesterday\"}]}", "$.records[0].recordedAt 'yesterday'")]
    public async Task A_corrupt_file_is_an_error_that_names_the_file_never_an_empty_store(string content, string expected)
    {
        var path = _temp.Write("records.json", content);
        var store = new ArtifactRecordFileStore(path);

        var read = await Assert.ThrowsAsync<InvalidDataException>(() => store.FindAsync("r", "1", "staging", TestContext.Current.CancellationToken));
        var write = await Assert.ThrowsAsync<InvalidDataException>(() => store.RecordAsync(Record(DigestA), TestContext.Current.CancellationToken));

        Assert.Contains(path, read.Message, StringComparison.Ordinal);
        Assert.Contains(expected, read.Message, StringComparison.Ordinal);
        Assert.Equal(read.Message, write.Message);
        Assert.Equal(content, await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_file_that_records_the_same_key_twice_is_corrupt()
    {
        var store = new ArtifactRecordFileStore(_temp.File("records.json"));
        await store.RecordAsync(Record(DigestA), TestContext.Current.CancellationToken);
        var json = await File.ReadAllTextAsync(store.Path, TestContext.Current.CancellationToken);
        var entry = json[(json.IndexOf('[', StringComparison.Ordinal) + 1)..json.LastIndexOf(']')];
        await File.WriteAllTextAsync(store.Path, json.Replace(entry, entry + "," + entry, StringComparison.Ordinal), TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => store.FindAsync("run-42", "2026.11.3", "staging", TestContext.Current.CancellationToken));

        Assert.Contains("$.records[1] records run-42 (2026.11.3) in 'staging' a second time", error.Message, StringComparison.Ordinal);
    }

    // ---- the database store ----

    [Fact]
    public async Task The_sqlite_store_creates_its_table_with_the_release_environment_key()
    {
        using var dataSource = Databases.Sqlite(_temp);
        var store = new ArtifactRecordDbStore(dataSource);
        await store.RecordAsync(Record(DigestA), TestContext.Current.CancellationToken);

        await using var connection = await dataSource.OpenConnectionAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, pk FROM pragma_table_info('releasekit_artifact_records') WHERE pk > 0 ORDER BY pk";
        var key = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                key.Add(reader.GetString(0));
            }
        }

        Assert.Equal(["release_id", "version", "environment"], key);
    }

    [Fact]
    public async Task The_postgres_store_keeps_the_time_as_timestamptz()
    {
        await using var db = await Databases.PostgresAsync();
        var store = new ArtifactRecordDbStore(db.DataSource);
        await store.RecordAsync(Record(DigestA), TestContext.Current.CancellationToken);

        await using var command = db.DataSource.CreateCommand(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'releasekit_artifact_records' AND column_name = 'recorded_at'");
        Assert.Equal("timestamp with time zone", await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public void The_dialect_is_detected_from_the_data_source()
    {
        using var sqlite = Databases.Sqlite(_temp);
        using var postgres = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=nobody");

        Assert.Equal(SqlDialect.Sqlite, new ArtifactRecordDbStore(sqlite).Dialect);
        Assert.Equal(SqlDialect.PostgreSql, new ArtifactRecordDbStore(postgres).Dialect);
        Assert.Equal(SqlDialect.PostgreSql, new ArtifactRecordDbStore(sqlite, SqlDialect.PostgreSql).Dialect);
    }

    [Fact]
    public void An_unknown_data_source_needs_an_explicit_dialect()
    {
        using var unknown = new UnknownDataSource();

        var error = Assert.Throws<ArgumentException>(() => new ArtifactRecordDbStore(unknown));

        Assert.Contains("pass SqlDialect.Sqlite or SqlDialect.PostgreSql", error.Message, StringComparison.Ordinal);
        Assert.Equal(SqlDialect.Sqlite, new ArtifactRecordDbStore(unknown, SqlDialect.Sqlite).Dialect);
    }

    [Theory]
    [InlineData("", "2026.1", "staging", DigestSample.Good)]
    [InlineData(" r", "2026.1", "staging", DigestSample.Good)]
    [InlineData("r", "2026.1", "staging", DigestSample.Upper)]
    [InlineData("r", "2026.1", "staging", DigestSample.Short)]
    [InlineData("r", "2026.1", "staging", DigestSample.NoAlgorithm)]
    public void A_record_refuses_malformed_values(string releaseId, string version, string environment, DigestSample digest)
    {
        var value = digest switch
        {
            DigestSample.Upper => "sha256:" + new string('A', 64),
            DigestSample.Short => "sha256:abc",
            DigestSample.NoAlgorithm => new string('a', 64),
            _ => DigestA,
        };

        Assert.ThrowsAny<ArgumentException>(() => new ArtifactRecord(releaseId, version, environment, value, _time.GetUtcNow()));
    }

    public enum DigestSample
    {
        Good,
        Upper,
        Short,
        NoAlgorithm,
    }

    /// <summary>A data source of a driver ReleaseKit does not know; it never connects.</summary>
    private sealed class UnknownDataSource : DbDataSource
    {
        public override string ConnectionString => "Data Source=nowhere";

        protected override DbConnection CreateDbConnection() => new UnknownConnection();
    }

    private sealed class UnknownConnection : DbConnection
    {
#pragma warning disable CS8765 // The setter's nullability matches the base's intent.
        public override string ConnectionString { get; set; } = string.Empty;
#pragma warning restore CS8765

        public override string Database => string.Empty;

        public override string DataSource => string.Empty;

        public override string ServerVersion => string.Empty;

        public override System.Data.ConnectionState State => System.Data.ConnectionState.Closed;

        public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

        public override void Close()
        {
        }

        public override void Open() => throw new NotSupportedException();

        protected override DbTransaction BeginDbTransaction(System.Data.IsolationLevel isolationLevel) => throw new NotSupportedException();

        protected override DbCommand CreateDbCommand() => throw new NotSupportedException();
    }
}

/// <summary>A store on real storage (a JSON file, a SQLite file, a PostgreSQL database), and how to register it.</summary>
internal sealed class StoreUnderTest : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];
    private Func<IArtifactRecordStore> _createAnother = null!;

    private StoreUnderTest()
    {
    }

    public IArtifactRecordStore Store { get; private set; } = null!;

    public Action<Microsoft.Extensions.DependencyInjection.IReleaseGatesBuilder> Register { get; private set; } = null!;

    public string Kind { get; private set; } = string.Empty;

    public static async Task<StoreUnderTest> CreateAsync(string kind, TempDirectory temp)
    {
        var result = new StoreUnderTest { Kind = kind };
        switch (kind)
        {
            case "file":
                var path = temp.File("artifacts/records.json");
                result._createAnother = () => new ArtifactRecordFileStore(path);
                result.Register = g => Microsoft.Extensions.DependencyInjection.ArtifactIdentityGateBuilderExtensions.UseFileArtifactStore(g, path);
                break;
            case "sqlite":
                var sqlite = Databases.Sqlite(temp, "records.db");
                result._owned.Add(sqlite);
                result._createAnother = () =>
                {
                    var another = Databases.Sqlite(temp, "records.db");
                    result._owned.Add(another);
                    return new ArtifactRecordDbStore(another, SqlDialect.Sqlite);
                };
                result.Register = g => Microsoft.Extensions.DependencyInjection.ArtifactIdentityGateBuilderExtensions.UseDbArtifactStore(g, sqlite);
                break;
            case "postgres":
                var db = await Databases.PostgresAsync();
                result._owned.Add(db);
                result._createAnother = () => new ArtifactRecordDbStore(db.DataSource, SqlDialect.PostgreSql);
                result.Register = g => Microsoft.Extensions.DependencyInjection.ArtifactIdentityGateBuilderExtensions.UseDbArtifactStore(g, db.DataSource, SqlDialect.PostgreSql);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "file, sqlite or postgres");
        }

        result.Store = result._createAnother();
        return result;
    }

    public IArtifactRecordStore CreateAnother() => _createAnother();

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
    }
}
