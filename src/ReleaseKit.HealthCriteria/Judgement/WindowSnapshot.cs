using System.Text;

namespace ReleaseKit.HealthCriteria;

/// <summary>
/// What every signal recorded in one release's window (all tiers together and per tier), stored so the next release
/// can be compared with it. Serialise with <see cref="ToBytes"/> (format version byte first) to keep it in any store.
/// </summary>
public sealed class WindowSnapshot
{
    internal const byte FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "RKWS"u8;
    private readonly Dictionary<(string Signal, string Tier), SignalAggregate> _signals;

    /// <summary>Creates a snapshot.</summary>
    /// <param name="releaseId">The release it belongs to.</param>
    /// <param name="windowName">The window's name.</param>
    /// <param name="start">The window's start.</param>
    /// <param name="end">The window's end (or the time the snapshot was taken, if earlier).</param>
    /// <param name="signals">The aggregates by signal name and tier (the empty tier is every tier together).</param>
    public WindowSnapshot(string releaseId, string windowName, DateTimeOffset start, DateTimeOffset end, IEnumerable<KeyValuePair<(string Signal, string Tier), SignalAggregate>> signals)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(releaseId);
        ArgumentException.ThrowIfNullOrWhiteSpace(windowName);
        ArgumentNullException.ThrowIfNull(signals);
        ReleaseId = releaseId;
        WindowName = windowName;
        Start = start;
        End = end;
        _signals = new(signals);
    }

    /// <summary>Gets the release the snapshot belongs to.</summary>
    public string ReleaseId { get; }

    /// <summary>Gets the window's name.</summary>
    public string WindowName { get; }

    /// <summary>Gets the window's start.</summary>
    public DateTimeOffset Start { get; }

    /// <summary>Gets the window's end (or when the snapshot was taken).</summary>
    public DateTimeOffset End { get; }

    /// <summary>Gets the signal names in the snapshot.</summary>
    public IReadOnlyCollection<string> Signals => [.. _signals.Keys.Select(k => k.Signal).Distinct(StringComparer.Ordinal)];

    /// <summary>Returns a signal's aggregate, or <see langword="null"/> when the snapshot does not hold it.</summary>
    /// <param name="signal">The signal's name.</param>
    /// <param name="tier">A tenant tier, or <see langword="null"/> for every tier together.</param>
    /// <returns>The aggregate.</returns>
    public SignalAggregate? Find(string signal, string? tier = null) =>
        _signals.GetValueOrDefault((signal, tier ?? ""));

    /// <summary>Serialises the snapshot (magic <c>RKWS</c>, format version 1).</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream, Encoding.UTF8);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(ReleaseId);
        writer.Write(WindowName);
        writer.Write(Start.UtcTicks);
        writer.Write(End.UtcTicks);
        writer.Write(_signals.Count);
        foreach (var ((signal, tier), aggregate) in _signals)
        {
            writer.Write(signal);
            writer.Write(tier);
            writer.Write((byte)aggregate.Kind);
            writer.Write(aggregate.Total);
            writer.Write(aggregate.Last.HasValue);
            writer.Write(aggregate.Last ?? 0);
            var sketch = aggregate.Sketch?.ToBytes() ?? [];
            writer.Write(sketch.Length);
            writer.Write(sketch);
        }

        writer.Flush();
        return stream.ToArray();
    }

    /// <summary>Reads a snapshot written by <see cref="ToBytes"/>.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="InvalidDataException">The bytes are not a snapshot of a known version, are truncated or hold invalid values.</exception>
    public static WindowSnapshot FromBytes(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length < 5 || !data.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a ReleaseKit window snapshot: the data does not start with the magic bytes 'RKWS'.");
        }

        if (data[4] != FormatVersion)
        {
            throw new InvalidDataException($"Unsupported window snapshot format version {data[4]} at byte 4; this library reads version {FormatVersion}.");
        }

        using var stream = new MemoryStream(data, 5, data.Length - 5);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            var releaseId = reader.ReadString();
            var windowName = reader.ReadString();
            var start = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
            var end = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
            var count = reader.ReadInt32();
            if (count < 0)
            {
                throw new InvalidDataException($"The window snapshot declares a negative number of signals ({count}).");
            }

            var signals = new List<KeyValuePair<(string, string), SignalAggregate>>();
            for (var i = 0; i < count; i++)
            {
                var signal = reader.ReadString();
                var tier = reader.ReadString();
                var kind = (SignalKind)reader.ReadByte();
                if (!Enum.IsDefined(kind))
                {
                    throw new InvalidDataException($"Signal '{signal}' in the window snapshot has an unknown kind {(int)kind}.");
                }

                var total = reader.ReadInt64();
                var hasLast = reader.ReadBoolean();
                var last = reader.ReadDouble();
                var length = reader.ReadInt32();
                if (length < 0 || length > stream.Length - stream.Position)
                {
                    throw new InvalidDataException($"Signal '{signal}' in the window snapshot declares a sketch of {length} bytes, but {stream.Length - stream.Position} remain.");
                }

                var sketch = length == 0 ? null : QuantileSketch.FromBytes(reader.ReadBytes(length));
                try
                {
                    signals.Add(new((signal, tier), new SignalAggregate(kind, sketch, total, hasLast ? last : null)));
                }
                catch (ArgumentException ex)
                {
                    throw new InvalidDataException($"Signal '{signal}' in the window snapshot is invalid: {ex.Message}", ex);
                }
            }

            if (stream.Position != stream.Length)
            {
                throw new InvalidDataException($"The window snapshot has {stream.Length - stream.Position} unexpected trailing bytes.");
            }

            return new WindowSnapshot(releaseId, windowName, start, end, signals);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"The window snapshot is truncated at byte {5 + stream.Position}.", ex);
        }
    }
}

/// <summary>Keeps window snapshots so the next release has a baseline: in memory by default, or in a database table with <see cref="DbHealthBaselineStore"/> (<c>UseDbHealthBaselineStore</c>) to keep them across deploys.</summary>
public interface IHealthBaselineStore
{
    /// <summary>Stores a snapshot, replacing one of the same release and window.</summary>
    /// <param name="snapshot">The snapshot.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task.</returns>
    ValueTask SaveAsync(WindowSnapshot snapshot, CancellationToken cancellationToken);

    /// <summary>
    /// Finds the baseline for <paramref name="currentReleaseId"/>: the snapshot of <paramref name="windowName"/> from
    /// another release whose window started last (the previous deploy), ties broken by the latest save.
    /// </summary>
    /// <param name="windowName">The window's name.</param>
    /// <param name="currentReleaseId">The release being judged.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The baseline, or <see langword="null"/> when there is none.</returns>
    ValueTask<WindowSnapshot?> FindBaselineAsync(string windowName, string currentReleaseId, CancellationToken cancellationToken);
}

/// <summary>An in-process <see cref="IHealthBaselineStore"/> (the default): snapshots live as long as the process. Use <see cref="DbHealthBaselineStore"/> to keep them across deploys.</summary>
public sealed class InMemoryHealthBaselineStore : IHealthBaselineStore
{
    private readonly Lock _gate = new();
    private readonly List<WindowSnapshot> _snapshots = [];

    /// <inheritdoc />
    public ValueTask SaveAsync(WindowSnapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_gate)
        {
            _snapshots.RemoveAll(s => s.ReleaseId == snapshot.ReleaseId && s.WindowName == snapshot.WindowName);
            _snapshots.Add(snapshot);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<WindowSnapshot?> FindBaselineAsync(string windowName, string currentReleaseId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // OrderBy is stable: among equal starts the latest save stays last.
            return ValueTask.FromResult(_snapshots.Where(s => s.WindowName == windowName && s.ReleaseId != currentReleaseId).OrderBy(s => s.Start).LastOrDefault());
        }
    }
}
