using System.Globalization;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.Reconciliation;

/// <summary>
/// Fails promotion while unreconciled (pending, failed) or in-flight postings older than the bound exist, and — with
/// <see cref="ReconciliationOptions.BacklogErpLookback"/> — while the journal and the ERP disagree about postings older
/// than the bound.
/// </summary>
internal sealed class ReconciliationBacklogGate(PostingJournal journal, IOptions<ReconciliationOptions> options, TimeProvider time, IServiceProvider services) : IReleaseGate
{
    public async ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var bound = options.Value.BacklogBound;
        var cutoff = time.GetUtcNow() - bound;
        var backlog = await journal.CountBacklogAsync(cutoff, cancellationToken).ConfigureAwait(false);
        var evidence = new List<Evidence> { Evidence.Of("backlog_bound", bound.TotalSeconds, unit: "s", source: journal.ToString()) };
        if (backlog.Any(b => b.Status == PostingStatus.Failed))
        {
            // A rejected posting a person accepted as it is (and that has not changed since) is reconciled.
            var accepted = await journal.CountAcceptedFailuresAsync(cutoff, cancellationToken).ConfigureAwait(false);
            if (accepted > 0)
            {
                evidence.Add(Evidence.Of("failed_accepted_by_a_person", accepted));
                backlog = [.. backlog.Select(b => b.Status == PostingStatus.Failed ? (b.Status, Count: b.Count - accepted, b.Oldest) : b).Where(b => b.Count > 0)];
            }
        }

        foreach (var (status, count, oldest) in backlog)
        {
            evidence.Add(Evidence.Of($"{PostingJournal.StatusText(status)}_older_than_bound", count, 0));
            evidence.Add(new Evidence($"oldest_{PostingJournal.StatusText(status)}", oldest.ToString("O", CultureInfo.InvariantCulture)));
        }

        if (backlog.Count == 0 && options.Value.BacklogErpLookback is { } lookback)
        {
            return await CompareWithErpAsync(cutoff - lookback, cutoff, evidence, cancellationToken).ConfigureAwait(false);
        }

        if (backlog.Count == 0)
        {
            return GateResult.Pass($"No posting journaled before {cutoff:O} is pending, in flight or failed.", evidence);
        }

        var summary = string.Join(", ", backlog.Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Count} {PostingJournal.StatusText(b.Status)}")));
        return GateResult.Fail(
            string.Create(CultureInfo.InvariantCulture, $"Postings older than {bound} are not reconciled ({summary}); run the reconciliation (releasekit reconcile) and resolve held items before promoting."),
            evidence);
    }

    private async Task<GateResult> CompareWithErpAsync(DateTimeOffset from, DateTimeOffset to, List<Evidence> evidence, CancellationToken cancellationToken)
    {
        if (services.GetService(typeof(IErpGateway)) is null)
        {
            return GateResult.Inconclusive("BacklogErpLookback is set but no IErpGateway is registered, so the journal cannot be compared with the ERP.", evidence);
        }

        var reconciler = (Reconciler)services.GetService(typeof(Reconciler))!;
        ReconciliationPlan plan;
        try
        {
            // A plan only reads the journal and the ERP.
            plan = await reconciler.PlanAsync(new ReconciliationScope(from, to), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ErpTransientException or TimeoutException or HttpRequestException or InvalidOperationException)
        {
            return GateResult.Inconclusive($"The ERP could not be read to compare it with the journal: {ex.Message}", [.. evidence, Evidence.Of("erp_error", ex.GetType().Name)]);
        }

        evidence.Add(new Evidence("erp_compared", string.Create(CultureInfo.InvariantCulture, $"{from:O} to {to:O}")));
        if (plan.Decided.Count > 0)
        {
            evidence.Add(Evidence.Of("erp_decided_by_a_person", plan.Decided.Count));
        }

        if (plan.Reopened.Count > 0)
        {
            evidence.Add(Evidence.Of("erp_decision_no_longer_matches", plan.Reopened.Count, 0));
        }

        if (plan.Items.Count == 0)
        {
            return GateResult.Pass(
                string.Create(CultureInfo.InvariantCulture, $"No posting journaled before {to:O} is pending, in flight or failed, and the ERP agrees with the journal from {from:O}")
                + (plan.Decided.Count == 0 ? "." : string.Create(CultureInfo.InvariantCulture, $", apart from {plan.Decided.Count} difference(s) a person accepted ({string.Join("; ", plan.Decided.Select(d => $"{d.Discrepancy.TenantId}/{d.Discrepancy.Kind}/{d.Discrepancy.BusinessKey} by {d.Decision.DecidedBy}: {d.Decision.Reason}"))}).")),
                evidence);
        }

        foreach (var group in plan.Items.GroupBy(i => i.Class).OrderBy(g => g.Key))
        {
            evidence.Add(Evidence.Of($"erp_{group.Key}", group.Count(), 0));
        }

        var summary = string.Join(", ", plan.Items.GroupBy(i => i.Action).OrderBy(g => g.Key).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count()} to {g.Key.ToString().ToLowerInvariant()}")))
            + (plan.Reopened.Count == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"; {plan.Reopened.Count} held again because a person's decision no longer matches"));
        return GateResult.Fail(
            string.Create(CultureInfo.InvariantCulture, $"The ERP and the journal disagree about postings journaled between {from:O} and {to:O} ({summary}); run the reconciliation (releasekit reconcile) and resolve held items before promoting."),
            evidence);
    }
}
