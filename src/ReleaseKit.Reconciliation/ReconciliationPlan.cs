using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ReleaseKit.Reconciliation;

/// <summary>What a reconciliation would do for a scope. Creating a plan changes nothing; <see cref="Render"/> is the dry run.</summary>
public sealed class ReconciliationPlan
{
    internal ReconciliationPlan(ReconciliationScope scope, DateTimeOffset createdAt, IReadOnlyList<Discrepancy> items, IReadOnlyList<DecidedDiscrepancy>? decided = null, IReadOnlyList<DecidedDiscrepancy>? reopened = null)
    {
        Scope = scope;
        CreatedAt = createdAt;
        Items = items;
        Decided = decided ?? [];
        Reopened = reopened ?? [];
        Id = Identify(scope, items);
    }

    /// <summary>Gets the scope.</summary>
    public ReconciliationScope Scope { get; }

    /// <summary>Gets when the plan was made.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>Gets the discrepancies, by tenant, kind and business key, each with its action (not those in <see cref="Decided"/>).</summary>
    public IReadOnlyList<Discrepancy> Items { get; }

    /// <summary>
    /// Gets the discrepancies a person resolved: held items with a recorded decision (<see cref="Reconciler.RecordDecisionAsync"/>)
    /// about exactly this discrepancy (same class and fingerprint). They are not in <see cref="Items"/>, are not executed
    /// and do not make the plan unsettled.
    /// </summary>
    public IReadOnlyList<DecidedDiscrepancy> Decided { get; }

    /// <summary>
    /// Gets the held items (in <see cref="Items"/>) with an earlier decision that no longer matches because the
    /// discrepancy changed since (another class, amount, ERP record, payload...), each with the latest such decision.
    /// </summary>
    public IReadOnlyList<DecidedDiscrepancy> Reopened { get; }

    /// <summary>
    /// Gets the plan's identity: a hash of its scope and of every item with the journal epoch, status and ERP references
    /// it was planned from. Checkpoints are kept per run id, plan and tenant, so that only the same plan resumes past them;
    /// a new plan (made after anything changed) never skips an item because of another plan's checkpoint.
    /// </summary>
    internal string Id { get; }

    /// <summary>Gets whether nothing is left to replay, compensate or acknowledge (held items may remain; decided items never count).</summary>
    public bool IsSettled => Items.All(i => i.Action == ReconciliationAction.Hold);

    /// <summary>Counts the items per action.</summary>
    /// <param name="action">The action.</param>
    /// <returns>The count.</returns>
    public int Count(ReconciliationAction action) => Items.Count(i => i.Action == action);

    /// <summary>Renders the plan as text, one line per item (the dry run).</summary>
    /// <returns>The text.</returns>
    public string Render()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Reconciliation plan for {Scope} ({Items.Count} item(s): ")
            .Append(string.Join(", ", Enum.GetValues<ReconciliationAction>().Select(a => string.Create(CultureInfo.InvariantCulture, $"{Count(a)} {a.ToString().ToLowerInvariant()}"))))
            .Append(Decided.Count > 0 ? string.Create(CultureInfo.InvariantCulture, $"; {Decided.Count} decided by a person") : string.Empty)
            .AppendLine(")");
        foreach (var item in Items)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {item.Action.ToString().ToUpperInvariant(),-11} {item.TenantId}/{item.Kind}/{item.BusinessKey} [{item.Class}]");
            if (item.Amount is { } amount)
            {
                text.Append(CultureInfo.InvariantCulture, $" {amount}");
            }

            text.Append(" - ").AppendLine(item.Reason);
        }

        foreach (var decided in Decided)
        {
            var (item, decision) = (decided.Discrepancy, decided.Decision);
            text.Append(CultureInfo.InvariantCulture, $"  {"DECIDED",-11} {item.TenantId}/{item.Kind}/{item.BusinessKey} [{item.Class}]")
                .Append(CultureInfo.InvariantCulture, $" - accepted as is by {decision.DecidedBy} at {decision.DecidedAt:O}: {decision.Reason}")
                .AppendLine();
        }

        return text.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => Render();

    private static string Identify(ReconciliationScope scope, IReadOnlyList<Discrepancy> items)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string? text) => hash.AppendData(Encoding.UTF8.GetBytes((text ?? "\u0002") + "\u0001"));
        Add(scope.ToString());
        foreach (var item in items)
        {
            Add(item.TenantId);
            Add(item.Kind);
            Add(item.BusinessKey);
            Add(item.Class.ToString());
            Add(item.Action.ToString());
            Add(item.Journal is { } j ? string.Create(CultureInfo.InvariantCulture, $"{j.IdempotencyKey}:{j.Epoch}:{j.Status}") : null);
            Add(string.Join(",", item.Downstream.Select(r => r.ErpReference)));
            Add(string.Join(",", item.ToReverse.Select(r => r.ErpReference)));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }
}

/// <summary>Counts of what a reconciliation found, amounts by currency and the held items.</summary>
public sealed class ReconciliationReport
{
    private ReconciliationReport(ReconciliationPlan plan)
    {
        Plan = plan;
        CountsByClass = plan.Items.GroupBy(i => i.Class).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
        AmountsByCurrency = plan.Items.Where(i => i.Amount is not null).GroupBy(i => i.Amount!.Value.Currency, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(i => i.Amount!.Value.Amount), StringComparer.Ordinal);
        Held = [.. plan.Items.Where(i => i.Action == ReconciliationAction.Hold)];
    }

    /// <summary>Gets the held items a person decided (accepted as they are), with who and why; not counted in <see cref="CountsByClass"/> or <see cref="AmountsByCurrency"/>.</summary>
    public IReadOnlyList<DecidedDiscrepancy> Decided => Plan.Decided;

    /// <summary>Gets the held items whose earlier decision no longer matches (the discrepancy changed), with that decision.</summary>
    public IReadOnlyList<DecidedDiscrepancy> Reopened => Plan.Reopened;

    /// <summary>Gets the plan the report describes.</summary>
    public ReconciliationPlan Plan { get; }

    /// <summary>Gets the number of discrepancies per class.</summary>
    public IReadOnlyDictionary<DiscrepancyClass, int> CountsByClass { get; }

    /// <summary>Gets the amounts at stake per currency (ISO 4217 code), summed over every discrepancy.</summary>
    public IReadOnlyDictionary<string, decimal> AmountsByCurrency { get; }

    /// <summary>Gets the items held for a person, with their reasons.</summary>
    public IReadOnlyList<Discrepancy> Held { get; }

    /// <summary>Gets whether the journal and the ERP agree in the scope, apart from the differences a person accepted (<see cref="Decided"/>).</summary>
    public bool IsClean => Plan.Items.Count == 0;

    /// <summary>Creates the report of a plan.</summary>
    /// <param name="plan">The plan.</param>
    /// <returns>The report.</returns>
    public static ReconciliationReport From(ReconciliationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new(plan);
    }

    /// <summary>Renders the report as Markdown.</summary>
    /// <returns>The text.</returns>
    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"## Reconciliation: {Plan.Scope}").AppendLine();
        if (IsClean)
        {
            return Decided.Count == 0
                ? text.AppendLine("The journal and the ERP agree.").ToString()
                : AppendDecided(text.AppendLine(CultureInfo.InvariantCulture, $"The journal and the ERP agree, apart from {Decided.Count} difference(s) a person accepted.")).ToString();
        }

        text.AppendLine("| class | count |").AppendLine("|---|---:|");
        foreach (var (c, n) in CountsByClass)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {c} | {n} |");
        }

        text.AppendLine().AppendLine("| currency | amount at stake |").AppendLine("|---|---:|");
        foreach (var (currency, amount) in AmountsByCurrency)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {currency} | {amount} |");
        }

        if (Held.Count > 0)
        {
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"### Held for a person ({Held.Count})").AppendLine();
            foreach (var item in Held)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- `{item.TenantId}/{item.Kind}/{item.BusinessKey}` [{item.Class}]: {item.Reason}");
            }
        }

        return AppendDecided(text).ToString();
    }

    private StringBuilder AppendDecided(StringBuilder text)
    {
        if (Decided.Count > 0)
        {
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"### Decided by a person ({Decided.Count})").AppendLine();
            foreach (var (item, decision) in Decided.Select(d => (d.Discrepancy, d.Decision)))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- `{item.TenantId}/{item.Kind}/{item.BusinessKey}` [{item.Class}]: accepted as is by {decision.DecidedBy} at {decision.DecidedAt:O}: {decision.Reason}");
            }
        }

        return text;
    }
}
