using System.Data.Common;
using ReleaseKit.Gates;
using ReleaseKit.Hosting;

namespace ProServ.Billing;

/// <summary>
/// The synthetic check <c>releasekit rehearse</c> runs on the database copy: can the build that will run read every
/// invoice column it reads in production? After applying (and re-applying) the pending migrations that is this
/// release; after rolling them back it is the release before it — the one a rollback puts back in service.
/// </summary>
public static class InvoiceColumnsCheck
{
    /// <summary>The check's name.</summary>
    public const string Name = "invoice-columns-readable";

    /// <summary>Runs the check against the database copy for the build whose expectations apply.</summary>
    public static async ValueTask<GateResult> RunAsync(SyntheticCheckContext context, ReleaseProfile current, CancellationToken cancellationToken)
    {
        if (context.Expectations == SyntheticExpectations.Previous && context.SchemaVersion == 0)
        {
            // Rolled back to an empty database: no earlier build ever ran against it, so there is nothing to keep readable.
            return GateResult.Pass("The database had no schema before this release: no earlier build reads it.", Evidence.Of("schema_version", 0L));
        }

        var index = ReleaseProfile.All.ToList().IndexOf(current);
        var build = context.Expectations == SyntheticExpectations.Previous && index > 0 ? ReleaseProfile.All[index - 1] : current;
        var columns = BillingStore.InvoiceColumns(build);
        await using var connection = await context.DataSource.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {columns} FROM invoices WHERE 1 = 0";
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        }
        catch (DbException ex)
        {
            return GateResult.Fail(
                $"Release {build.Version} cannot read the invoices at schema version {context.SchemaVersion}: {ex.Message}",
                Evidence.Of("build", build.Version),
                Evidence.Of("query", command.CommandText));
        }

        return GateResult.Pass(
            $"Release {build.Version} reads every invoice column it needs at schema version {context.SchemaVersion}.",
            Evidence.Of("build", build.Version),
            Evidence.Of("columns", columns));
    }
}
