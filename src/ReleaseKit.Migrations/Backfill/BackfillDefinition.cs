using System.Data.Common;
using System.Text.RegularExpressions;
using ReleaseKit.Gates;
using ReleaseKit.Migrations.Internal;

namespace ReleaseKit.Migrations;

/// <summary>
/// A batched, resumable backfill: the rows of <see cref="Table"/> are visited in ranges of its integer key column, at most
/// <see cref="BatchSize"/> rows a batch, and <see cref="ProcessBatch"/> runs once per range in the same transaction that moves
/// the checkpoint past it.
/// </summary>
/// <example><code>new BackfillDefinition("invoice-amount-due", "invoice", "id", 1_000,
///     (batch, ct) => batch.ExecuteAsync("UPDATE invoice SET amount_due = total WHERE id &gt; @from AND id &lt;= @to", ct));</code></example>
public sealed partial class BackfillDefinition
{
    /// <summary>Creates a backfill definition.</summary>
    /// <param name="name">The backfill's name; its checkpoint is stored under it (letters, digits, '-', '_', '.').</param>
    /// <param name="table">The table whose rows are visited.</param>
    /// <param name="keyColumn">An integer column of <paramref name="table"/> with unique values (usually the primary key).</param>
    /// <param name="batchSize">The most rows a batch covers; positive.</param>
    /// <param name="processBatch">Processes the rows of one key range on the batch's connection and transaction; returns the rows it changed.</param>
    /// <exception cref="ArgumentException">A name is empty or not a plain identifier.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public BackfillDefinition(string name, string table, string keyColumn, int batchSize, Func<BackfillBatch, CancellationToken, ValueTask<int>> processBatch)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyColumn);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentNullException.ThrowIfNull(processBatch);
        if (!NamePattern().IsMatch(name))
        {
            throw new ArgumentException($"Backfill name '{name}' is not allowed; use letters, digits, '-', '_' and '.'.", nameof(name));
        }

        foreach (var (identifier, parameter) in (ReadOnlySpan<(string, string)>)[(table, nameof(table)), (keyColumn, nameof(keyColumn))])
        {
            if (!IdentifierPattern().IsMatch(identifier))
            {
                throw new ArgumentException($"Backfill '{name}': '{identifier}' is not a plain SQL identifier (letters, digits and '_', optionally schema-qualified with '.').", parameter);
            }
        }

        Name = name;
        Table = table;
        KeyColumn = keyColumn;
        BatchSize = batchSize;
        ProcessBatch = processBatch;
    }

    /// <summary>The backfill's name (the key of its checkpoint).</summary>
    public string Name { get; }

    /// <summary>The table whose rows are visited.</summary>
    public string Table { get; }

    /// <summary>The integer key column the batches are ranges of.</summary>
    public string KeyColumn { get; }

    /// <summary>The most rows a batch covers.</summary>
    public int BatchSize { get; }

    /// <summary>Processes one batch.</summary>
    public Func<BackfillBatch, CancellationToken, ValueTask<int>> ProcessBatch { get; }

    /// <inheritdoc />
    public override string ToString() => $"backfill {Name} over {Table}.{KeyColumn} in batches of {BatchSize}";

    internal string QuotedTable => Quote(Table);

    internal string QuotedKey => Quote(KeyColumn);

    private static string Quote(string identifier) => string.Join('.', identifier.Split('.').Select(part => $"\"{part}\""));

    [GeneratedRegex(@"^[A-Za-z0-9_.\-]{1,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierPattern();
}

/// <summary>
/// Implemented by a FluentMigrator migration of phase <see cref="Phase.Backfill"/> whose data change runs in batches:
/// <see cref="FleetMigrator"/> runs <see cref="Backfill"/> to its end (resuming at its checkpoint) before it applies the
/// migration itself, so the version is recorded only once every batch is done.
/// </summary>
public interface IBatchedBackfill
{
    /// <summary>The backfill to run before the migration is recorded as applied.</summary>
    BackfillDefinition Backfill { get; }
}

/// <summary>One key range of a backfill: the rows with <c>FromExclusive &lt; key &lt;= ToInclusive</c>.</summary>
public sealed partial class BackfillBatch
{
    [GeneratedRegex(@"(?<![\w@$])@(from|to)\b", RegexOptions.CultureInvariant)]
    private static partial Regex BoundsPattern();

    internal BackfillBatch(string name, long fromExclusive, long toInclusive, int number, DbConnection connection, DbTransaction transaction, SqlDialect dialect)
    {
        Name = name;
        FromExclusive = fromExclusive;
        ToInclusive = toInclusive;
        Number = number;
        Connection = connection;
        Transaction = transaction;
        Dialect = dialect;
    }

    /// <summary>The backfill's name.</summary>
    public string Name { get; }

    /// <summary>The lower bound of the range (exclusive).</summary>
    public long FromExclusive { get; }

    /// <summary>The upper bound of the range (inclusive).</summary>
    public long ToInclusive { get; }

    /// <summary>The batch's number in this run, from 1.</summary>
    public int Number { get; }

    /// <summary>The open connection; do the batch's work on it.</summary>
    public DbConnection Connection { get; }

    /// <summary>The transaction that also moves the checkpoint; commands must use it for the batch to count exactly once.</summary>
    public DbTransaction Transaction { get; }

    /// <summary>The SQL dialect of the database.</summary>
    public SqlDialect Dialect { get; }

    /// <summary>
    /// Runs <paramref name="sql"/> in the batch's transaction, with <c>@from</c> bound to <see cref="FromExclusive"/> and
    /// <c>@to</c> to <see cref="ToInclusive"/> (on both SQLite and PostgreSQL). Only the whole words are replaced: <c>@total</c> or
    /// <c>@to_date</c> are left alone.
    /// </summary>
    /// <param name="sql">The statement, for example <c>UPDATE t SET b = a WHERE id &gt; @from AND id &lt;= @to</c>.</param>
    /// <param name="cancellationToken">Cancels the statement.</param>
    /// <returns>The rows the statement changed.</returns>
    public async ValueTask<int> ExecuteAsync(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        // Whole words only: @total, @to_date and @fromage are other names and stay as they are.
        var text = BoundsPattern().Replace(sql, match => (match.Groups[1].Value, Dialect) switch
        {
            ("from", SqlDialect.PostgreSql) => "$1",
            ("from", _) => "@p1",
            (_, SqlDialect.PostgreSql) => "$2",
            _ => "@p2",
        });
        var command = Db.Command(Connection, Dialect, text, FromExclusive, ToInclusive);
        await using (command.ConfigureAwait(false))
        {
            command.Transaction = Transaction;
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} batch {Number}: keys ({FromExclusive}, {ToInclusive}]";
}

/// <summary>Progress of a backfill, reported after each committed batch.</summary>
/// <param name="Name">The backfill's name.</param>
/// <param name="LastKey">The checkpoint: every key up to it is done.</param>
/// <param name="Batches">Batches committed by this run.</param>
/// <param name="Rows">Rows the batches of this run reported changed.</param>
/// <param name="ResumedFrom">The checkpoint this run started at, or <see langword="null"/> when it started from the beginning.</param>
public sealed record BackfillProgress(string Name, long LastKey, int Batches, long Rows, long? ResumedFrom);

/// <summary>The outcome of a backfill run that reached the end of the table.</summary>
/// <param name="Name">The backfill's name.</param>
/// <param name="Batches">Batches committed by this run.</param>
/// <param name="Rows">Rows the batches of this run reported changed.</param>
/// <param name="LastKey">The checkpoint at the end, or <see langword="null"/> when the table was empty.</param>
/// <param name="ResumedFrom">The checkpoint this run started at, or <see langword="null"/> when it started from the beginning.</param>
public sealed record BackfillResult(string Name, int Batches, long Rows, long? LastKey, long? ResumedFrom);
