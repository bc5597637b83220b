using System.Globalization;
using System.Text.Json;

namespace ReleaseKit.Gates;

/// <summary>
/// An <see cref="IArtifactRecordStore"/> in one JSON file. Writes go to a temporary file that replaces the store
/// atomically, under an exclusive lock on a sibling <c>.lock</c> file so processes sharing the file do not lose each
/// other's records. A missing file is an empty store; a file that cannot be read is an error, never an empty store.
/// </summary>
internal sealed class ArtifactRecordFileStore : IArtifactRecordStore
{
    internal const int SchemaVersion = 1;

    private static readonly JsonDocumentOptions ReadOptions = new() { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 };
    private static readonly TimeSpan LockPollInterval = TimeSpan.FromMilliseconds(25);

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TimeProvider _timeProvider;

    public ArtifactRecordFileStore(string path, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        LockPath = Path + ".lock";
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the store's file.</summary>
    public string Path { get; }

    /// <summary>Gets the lock file beside it.</summary>
    public string LockPath { get; }

    /// <summary>Gets or sets how long a write waits for another process's lock before it gives up. Default 10 seconds.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public async Task<ArtifactRecord> RecordAsync(ArtifactRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var directory = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            await using var fileLock = (await AcquireFileLockAsync(cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            var records = await ReadAllAsync(cancellationToken).ConfigureAwait(false);
            var existing = records.Find(r => SameKey(r, record.ReleaseId, record.Version, record.Environment));
            if (existing is not null)
            {
                return existing.ArtifactDigest == record.ArtifactDigest ? existing : throw new ArtifactRecordConflictException(existing, record);
            }

            records.Add(record);
            await WriteAllAsync(records, cancellationToken).ConfigureAwait(false);
            return record;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<ArtifactRecord?> FindAsync(string releaseId, string version, string environment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(releaseId);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(environment);
        var records = await ReadAllAsync(cancellationToken).ConfigureAwait(false);
        return records.Find(r => SameKey(r, releaseId, version, environment));
    }

    public override string ToString() => $"file '{Path}'";

    private static bool SameKey(ArtifactRecord record, string releaseId, string version, string environment) =>
        record.ReleaseId == releaseId && record.Version == version && string.Equals(record.Environment, environment, StringComparison.OrdinalIgnoreCase);

    private async Task<FileStream> AcquireFileLockAsync(CancellationToken cancellationToken)
    {
        var start = _timeProvider.GetTimestamp();
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive advisory lock (flock on Unix) that other processes' writers respect.
                return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1, FileOptions.Asynchronous);
            }
            catch (IOException) when (_timeProvider.GetElapsedTime(start) < LockTimeout)
            {
                await Task.Delay(LockPollInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new TimeoutException($"Could not lock the artifact record file '{Path}' within {LockTimeout}: another process holds '{LockPath}'.", ex);
            }
        }
    }

    private async Task<List<ArtifactRecord>> ReadAllAsync(CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(Path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }

        if (bytes.Length == 0)
        {
            throw Corrupt("the file is empty (a store that was never written has no file at all)");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, ReadOptions);
        }
        catch (JsonException ex)
        {
            throw Corrupt(
                string.Create(CultureInfo.InvariantCulture, $"it is not valid JSON at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}"),
                ex);
        }

        using (document)
        {
            return Parse(document.RootElement);
        }
    }

    private List<ArtifactRecord> Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Corrupt($"the root is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object with 'schemaVersion' and 'records'");
        }

        if (!root.TryGetProperty("schemaVersion", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var schemaVersion))
        {
            throw Corrupt("$.schemaVersion is missing or not a number");
        }

        if (schemaVersion != SchemaVersion)
        {
            throw Corrupt(string.Create(CultureInfo.InvariantCulture, $"$.schemaVersion is {schemaVersion}; this version of ReleaseKit reads {SchemaVersion}"));
        }

        if (!root.TryGetProperty("records", out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw Corrupt("$.records is missing or not an array");
        }

        var records = new List<ArtifactRecord>(array.GetArrayLength());
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"$.records[{index}]");
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw Corrupt($"{path} is not an object");
            }

            var recordedAtText = RequiredString(item, path, "recordedAt");
            if (!DateTimeOffset.TryParse(recordedAtText, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var recordedAt))
            {
                throw Corrupt($"{path}.recordedAt '{recordedAtText}' is not an ISO 8601 date and time");
            }

            string? recordedBy = null;
            if (item.TryGetProperty("recordedBy", out var by) && by.ValueKind != JsonValueKind.Null)
            {
                recordedBy = by.ValueKind == JsonValueKind.String ? by.GetString() : throw Corrupt($"{path}.recordedBy is not a string");
            }

            ArtifactRecord record;
            try
            {
                record = new ArtifactRecord(
                    RequiredString(item, path, "releaseId"),
                    RequiredString(item, path, "version"),
                    RequiredString(item, path, "environment"),
                    RequiredString(item, path, "artifactDigest"),
                    recordedAt,
                    recordedBy);
            }
            catch (ArgumentException ex)
            {
                throw Corrupt($"{path} is invalid: {ex.Message}", ex);
            }

            if (records.Exists(r => SameKey(r, record.ReleaseId, record.Version, record.Environment)))
            {
                throw Corrupt($"{path} records {record.ReleaseId} ({record.Version}) in '{record.Environment}' a second time");
            }

            records.Add(record);
            index++;
        }

        return records;
    }

    private string RequiredString(JsonElement item, string path, string property) =>
        item.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Corrupt($"{path}.{property} is missing or not a string");

    private async Task WriteAllAsync(List<ArtifactRecord> records, CancellationToken cancellationToken)
    {
        var temporary = $"{Path}.{Guid.NewGuid():N}.tmp";
        try
        {
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 16 * 1024, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
                await using (writer.ConfigureAwait(false))
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("schemaVersion", SchemaVersion);
                    writer.WriteStartArray("records");
                    foreach (var record in records)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("releaseId", record.ReleaseId);
                        writer.WriteString("version", record.Version);
                        writer.WriteString("environment", record.Environment);
                        writer.WriteString("artifactDigest", record.ArtifactDigest);
                        writer.WriteString("recordedAt", record.RecordedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                        if (record.RecordedBy is null)
                        {
                            writer.WriteNull("recordedBy");
                        }
                        else
                        {
                            writer.WriteString("recordedBy", record.RecordedBy);
                        }

                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                    writer.WriteEndObject();
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                }

                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, Path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a stray temporary file does not affect the store.
        }
    }

    private InvalidDataException Corrupt(string problem, Exception? inner = null) =>
        new($"The artifact record file '{Path}' is corrupt: {problem}. Restore it from a backup or fix it by hand; it is never read as an empty store.", inner);
}
