using System.Data.Common;
using ReleaseKit.Gates;

namespace ReleaseKit.Hosting;

/// <summary>Which build's expectations a synthetic check judges the database by.</summary>
public enum SyntheticExpectations
{
    /// <summary>The build being released: its migrations are applied (after apply, and again after re-apply).</summary>
    Current = 0,

    /// <summary>The build before it (still running during a rolling deploy, or restored by a rollback): its migrations were rolled back.</summary>
    Previous = 1,
}

/// <summary>
/// A synthetic check of the application: a small scripted use of the database (read an invoice, post a time entry...) that
/// <c>releasekit rehearse</c> runs on a copy of the database after applying the pending migrations, after rolling them back,
/// and after re-applying them. Register it with <c>AddSyntheticCheck</c>.
/// </summary>
public interface ISyntheticCheck
{
    /// <summary>Runs the check against <see cref="SyntheticCheckContext.DataSource"/> (the copy, never the original).</summary>
    /// <param name="context">The copy, the expectations to judge by, the schema version, services and clock.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The verdict with its evidence. Throwing is a <see cref="Verdict.Fail"/> with the exception as evidence.</returns>
    ValueTask<GateResult> RunAsync(SyntheticCheckContext context, CancellationToken cancellationToken);
}

/// <summary>What a synthetic check runs against.</summary>
public sealed class SyntheticCheckContext
{
    internal SyntheticCheckContext(string checkName, string step, DbDataSource dataSource, SqlDialect dialect, SyntheticExpectations expectations, long schemaVersion, IServiceProvider services, TimeProvider timeProvider)
    {
        CheckName = checkName;
        Step = step;
        DataSource = dataSource;
        Dialect = dialect;
        Expectations = expectations;
        SchemaVersion = schemaVersion;
        Services = services;
        TimeProvider = timeProvider;
    }

    /// <summary>Gets the check's registered name.</summary>
    public string CheckName { get; }

    /// <summary>Gets the rehearsal step the check runs in: <c>after-apply</c>, <c>after-rollback</c> or <c>after-reapply</c>.</summary>
    public string Step { get; }

    /// <summary>Gets the copy of the database. Use it, not a <see cref="DbDataSource"/> resolved some other way, so the original is never written.</summary>
    public DbDataSource DataSource { get; }

    /// <summary>Gets the copy's SQL dialect.</summary>
    public SqlDialect Dialect { get; }

    /// <summary>Gets which build's expectations apply: <see cref="SyntheticExpectations.Previous"/> after the rollback, otherwise <see cref="SyntheticExpectations.Current"/>.</summary>
    public SyntheticExpectations Expectations { get; }

    /// <summary>Gets the highest migration version applied to the copy (0 for none).</summary>
    public long SchemaVersion { get; }

    /// <summary>
    /// Gets a scope of the application's services, rebuilt for the rehearsal (one scope per check run, disposed after it): every
    /// registration of <see cref="DbDataSource"/> or <see cref="DbConnection"/> (and their subclasses) resolves to the copy.
    /// Anything that opens its own connection from a connection string still reaches the original: use <see cref="DataSource"/>.
    /// </summary>
    public IServiceProvider Services { get; }

    /// <summary>Gets the clock (the application's <see cref="System.TimeProvider"/>).</summary>
    public TimeProvider TimeProvider { get; }
}

/// <summary>Options of <c>releasekit rehearse</c>.</summary>
public sealed class ReleaseKitRehearsalOptions
{
    /// <summary>
    /// Gets or sets the connection string of the original database; <see langword="null"/> to take the data source's. Set it
    /// when the data source hides the password (Npgsql does unless <c>Persist Security Info=true</c>).
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the PostgreSQL database the copy is created from and dropped from. Default <c>postgres</c>.</summary>
    public string MaintenanceDatabase { get; set; } = "postgres";

    /// <summary>
    /// Gets or sets how long one synthetic check may run before it fails. Default 1 minute. The check's token is cancelled then;
    /// a check that does not stop is abandoned (it may still run while the rehearsal goes on and the copy is dropped).
    /// </summary>
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromMinutes(1);
}
