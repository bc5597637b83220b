using System.Globalization;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.Reconciliation;

/// <summary>Fails promotion while unreconciled (pending, failed) or in-flight postings older than the bound exist.</summary>
internal sealed class ReconciliationBacklogGate(PostingJournal journal, IOptions<ReconciliationOptions> options, TimeProvider time) : IReleaseGate
{
    public async ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var bound = options.Value.BacklogBound;
        var cutoff = time.GetUtcNow() - bound;
        var backlog = await journal.CountBacklogAsync(cutoff, cancellationToken).ConfigureAwait(false);
        var evidence = new List<Evidence> { Evidence.Of("backlog_bound", bound.TotalSeconds, unit: "s", source: journal.ToString()) };
        foreach (var (status, count, oldest) in backlog)
        {
            evidence.Add(Evidence.Of($"{PostingJournal.StatusText(status)}_older_than_bound", count, 0));
            evidence.Add(new Evidence($"oldest_{PostingJournal.StatusText(status)}", oldest.ToString("O", CultureInfo.InvariantCulture)));
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
}
