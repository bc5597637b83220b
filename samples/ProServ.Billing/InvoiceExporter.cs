using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;
using ReleaseKit.Reconciliation;
using ReleaseKit.TenantContext;

namespace ProServ.Billing;

/// <summary>The outcome of an export request.</summary>
public enum ExportStatus
{
    /// <summary>Exported (to the ERP, or by the legacy file export).</summary>
    Exported,

    /// <summary>No such invoice for the tenant.</summary>
    NotFound,

    /// <summary>Not approved yet, or already exported.</summary>
    Conflict,

    /// <summary>The ERP did not take it; the posting stays journaled for the reconciliation.</summary>
    Failed,
}

/// <summary>An export result.</summary>
public sealed record ExportResult(ExportStatus Status, string Message, string? ErpDocumentNo = null);

/// <summary>
/// Exports approved invoices. From release 2026.12.1, for tenants whose ring has the <c>ErpPostings</c> flag, an export is
/// journaled in the same transaction as the invoice's status change, then sent to the ERP through the Reconciler (key
/// stored before the first attempt). Earlier releases, and tenants the flag is off for, use the legacy file export.
/// </summary>
public sealed class InvoiceExporter(
    DbDataSource dataSource,
    BillingStore store,
    PostingJournal journal,
    Reconciler reconciler,
    IFeatureManager features,
    BillingMetrics metrics,
    ErpFaultPlan faults,
    IOptions<ReleaseOptions> release,
    TimeProvider time)
{
    /// <summary>The feature flag that exposes ERP postings ring by ring.</summary>
    public const string ErpPostingsFlag = "ErpPostings";

    /// <summary>Exports an invoice of the ambient tenant.</summary>
    public async Task<ExportResult> ExportAsync(TenantProfile tenant, long invoiceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        var invoice = await store.FindInvoiceAsync(tenant.Id, invoiceId, cancellationToken);
        if (invoice is null)
        {
            return new ExportResult(ExportStatus.NotFound, $"Invoice {invoiceId} does not exist for tenant {tenant.Id}.");
        }

        TenantIsolation.EnsureSameTenant(invoice.TenantId);
        if (invoice.Status is not ("approved" or "export_failed"))
        {
            return new ExportResult(ExportStatus.Conflict, $"Invoice {invoice.Number} is {invoice.Status}; only approved invoices can be exported.");
        }

        var tier = new KeyValuePair<string, object?>("tenant.tier", tenant.Tier.ToString());
        metrics.InvoiceExports.Add(1, tier);
        var profile = release.Value.Profile;
        if (!profile.PostsToErp || !await features.IsEnabledAsync(ErpPostingsFlag))
        {
            var fileReference = "CSV-" + invoice.Number;
            await store.MarkExportedAsync(tenant.Id, invoice.Id, null, fileReference, cancellationToken);
            return new ExportResult(ExportStatus.Exported, $"{invoice.Number} written to the legacy export file.");
        }

        JournalEntry entry;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var payload = string.Create(CultureInfo.InvariantCulture, $"{{\"invoice\":\"{invoice.Number}\",\"amount\":\"{invoice.Amount}\",\"currency\":\"{invoice.Currency}\"}}");
            entry = await journal.RecordAsync(
                new PostingRequest(tenant.Id, PostingKind.InvoiceExport, invoice.Number, new Money(invoice.Amount, invoice.Currency), payload, profile.Version, time.GetUtcNow()),
                transaction,
                cancellationToken);
            await store.SetStatusAsync(tenant.Id, invoice.Id, "exporting", ["approved", "export_failed"], null, cancellationToken, connection, transaction);
            await transaction.CommitAsync(cancellationToken);
        }

        faults.BeforeSend(tenant.Id, invoice.Number);
        var outcome = await reconciler.SendAsync(entry, cancellationToken);
        if (outcome == PostingOutcome.Acknowledged)
        {
            var acknowledged = await journal.FindAsync(tenant.Id, PostingKind.InvoiceExport, invoice.Number, cancellationToken);
            var documentNo = acknowledged?.ErpReference ?? entry.IdempotencyKey;
            await store.MarkExportedAsync(tenant.Id, invoice.Id, documentNo, documentNo, cancellationToken);
            return new ExportResult(ExportStatus.Exported, $"{invoice.Number} posted to the ERP as {documentNo}.", documentNo);
        }

        metrics.FailedInvoiceExports.Add(1, tier);
        await store.SetStatusAsync(tenant.Id, invoice.Id, "export_failed", ["exporting"], null, cancellationToken);
        return new ExportResult(ExportStatus.Failed, $"The ERP did not take {invoice.Number} ({outcome}); it stays journaled and the reconciliation will replay it.");
    }
}

/// <summary>Injects the configured faults into the in-process fake ERP before a send (<c>Erp:DuplicateEvery</c>, <c>Erp:FailEvery</c>).</summary>
public sealed class ErpFaultPlan(InMemoryErp erp, IOptions<ErpFaultOptions> options, IOptions<ReconciliationOptions> reconciliation)
{
    private long _sends;

    /// <summary>Queues this send's fault, if any.</summary>
    public void BeforeSend(string tenantId, string businessKey)
    {
        var n = Interlocked.Increment(ref _sends);
        var o = options.Value;
        if (o.FailEvery > 0 && n % o.FailEvery == 0)
        {
            // 503 on the first attempt and on every retry: the export fails and the posting goes back to pending.
            for (var i = 0; i <= reconciliation.Value.MaxRetryAttempts; i++)
            {
                erp.InjectFault(tenantId, businessKey, ErpFault.Transient);
            }
        }
        else if (o.DuplicateEvery > 0 && n % o.DuplicateEvery == 0)
        {
            erp.InjectFault(tenantId, businessKey, ErpFault.AcceptDuplicate);
        }
    }
}
