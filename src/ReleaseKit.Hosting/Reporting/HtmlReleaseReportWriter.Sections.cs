using System.Globalization;
using System.Text;
using ReleaseKit.Gates;
using ReleaseKit.Gates.Reporting;
using ReleaseKit.HealthCriteria;
using ReleaseKit.Migrations;
using ReleaseKit.Reconciliation;

namespace ReleaseKit.Hosting;

/// <summary>The migration plan, health and reconciliation sections of the release report.</summary>
public static partial class HtmlReleaseReportWriter
{
    /// <summary>The health reports in a fixed order: by window start, then window end (the first hour before the first day), then name, then evaluation time.</summary>
    internal static HealthReport[] SortedHealth(ReleaseReport report) =>
        [.. report.Health.Where(h => h is not null).OrderBy(h => h.Window.Start).ThenBy(h => h.Window.End).ThenBy(h => h.Window.Name, StringComparer.Ordinal).ThenBy(h => h.EvaluatedAt)];

    private static void AppendSectionSummary(StringBuilder html, ReleaseReport report)
    {
        var parts = new List<string>();
        if (report.MigrationPlan is { } plan)
        {
            var blocked = plan.Steps.Count(s => !s.MayRunNow);
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"migrations: {plan.Steps.Count} pending{(blocked == 0 ? string.Empty : $", {blocked} blocked")}"));
        }

        foreach (var health in SortedHealth(report))
        {
            parts.Add($"health {health.Window.Name}: {HealthWord(health.Verdict)}");
        }

        if (report.Reconciliation is { } reconciliation)
        {
            parts.Add(reconciliation.IsClean
                ? "reconciliation: clean"
                : string.Create(CultureInfo.InvariantCulture, $"reconciliation: {reconciliation.Plan.Items.Count} discrepancies, {reconciliation.Held.Count} held"));
        }

        if (parts.Count > 0)
        {
            html.Append("<p class=\"also\">Also in this report: ").Append(string.Join(" · ", parts.Select(T))).Append("</p>\n");
        }
    }

    private static void AppendSections(StringBuilder html, ReleaseReport report)
    {
        if (report.MigrationPlan is { } plan)
        {
            AppendMigrationPlan(html, plan);
        }

        var health = SortedHealth(report);
        if (health.Length > 0)
        {
            AppendHealth(html, health);
        }

        if (report.Reconciliation is not null || report.ReconciliationResult is not null)
        {
            AppendReconciliation(html, report.Reconciliation, report.ReconciliationResult);
        }
    }

    private static void AppendMigrationPlan(StringBuilder html, MigrationPlan plan)
    {
        var steps = plan.Steps.OrderBy(s => s.Version).ToArray();
        html.Append("<section id=\"migrations\"><h2>Migration plan</h2>\n")
            .Append("<p class=\"explain\">The migrations this build would apply, in version order: each with its phase (Expand and Backfill keep older builds working; a Contract removes what they read), its class, what it does, and whether the compatibility window lets it run now — a Contract waits while a live instance runs a build that does not know it, and later migrations wait behind it.</p>\n");
        if (steps.Length == 0)
        {
            html.Append("<p class=\"summary\">No pending migrations: the database has every migration this build knows.</p></section>\n");
            return;
        }

        var now = steps.Count(s => s.MayRunNow);
        html.Append("<p class=\"meta\">").Append(steps.Length.ToString(CultureInfo.InvariantCulture)).Append(" pending · ")
            .Append(now.ToString(CultureInfo.InvariantCulture)).Append(" may run now · ").Append((steps.Length - now).ToString(CultureInfo.InvariantCulture)).Append(" waiting</p>\n")
            .Append("<table class=\"plan\"><thead><tr><th>Version</th><th>Phase</th><th>Migration</th><th>What it does</th><th>Now</th><th>Why</th></tr></thead><tbody>\n");
        foreach (var step in steps)
        {
            var cls = step.MayRunNow ? "pass" : step.Phase is null ? "fail" : "warn";
            html.Append("<tr class=\"v-").Append(cls).Append("\" data-migration=\"").Append(step.Version.ToString(CultureInfo.InvariantCulture)).Append("\"><td>")
                .Append(step.Version.ToString(CultureInfo.InvariantCulture)).Append("</td><td>").Append(step.Phase?.ToString() ?? "(no phase)").Append("</td><td>")
                .Append(T(step.MigrationClass)).Append("</td><td>").Append(T(step.Summary)).Append("</td><td>").Append(step.MayRunNow ? "may run now" : "waits").Append("</td><td>")
                .Append(T(step.Reason));
            if (step.BlockingInstances.Count > 0)
            {
                html.Append(" <b>Blocking instances:</b> ").Append(T(string.Join(", ", step.BlockingInstances.Order(StringComparer.Ordinal))));
            }

            html.Append("</td></tr>\n");
        }

        html.Append("</tbody></table></section>\n");
    }

    private static void AppendHealth(StringBuilder html, HealthReport[] reports)
    {
        html.Append("<section id=\"health\"><h2>Health criteria</h2>\n")
            .Append("<p class=\"explain\">How the release behaves after the deploy, per window: the window's verdict, then each criterion with its observed value against its threshold and, when it compares with the previous release, the baseline. Each chart shows the judged statistic per time slice of the window (solid line), the threshold (red dashed line) and the baseline (purple dotted line); hover a point for its value.</p>\n");
        foreach (var report in reports)
        {
            var gate = HealthReport.ToGateVerdict(report.Verdict).ToWireName();
            html.Append("<article class=\"health v-").Append(gate).Append("\" data-window=\"").Append(T(report.Window.Name)).Append("\">\n<h3><span class=\"pill\">")
                .Append(HealthWord(report.Verdict).ToUpperInvariant()).Append("</span> ").Append(T(report.Window.Name)).Append(" <small>")
                .Append(ReportText.Timestamp(report.Window.Start)).Append(" to ").Append(ReportText.Timestamp(report.Window.End)).Append("</small></h3>\n")
                .Append("<p class=\"reason\">").Append(T(report.Reason)).Append("</p>\n<p class=\"meta\">release ").Append(T(report.ReleaseId))
                .Append(" · evaluated ").Append(ReportText.Timestamp(report.EvaluatedAt)).Append(report.EvaluatedAt < report.Window.End ? " (window still open)" : string.Empty).Append("</p>\n");
            foreach (var criterion in report.Criteria.OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                AppendCriterion(html, report, criterion);
            }

            if (report.DataIssues.Count > 0)
            {
                html.Append("<p><b>Data issues</b> (bad input seen while recording):</p>\n");
                AppendEvidenceTable(html, report.DataIssues.OrderBy(e => e.Name, StringComparer.Ordinal));
            }

            html.Append("</article>\n");
        }

        html.Append("</section>\n");
    }

    private static void AppendCriterion(StringBuilder html, HealthReport report, CriterionResult criterion)
    {
        var verdict = criterion.Verdict.ToWireName();
        html.Append("<div class=\"criterion v-").Append(verdict).Append("\" data-criterion=\"").Append(T(criterion.Name)).Append("\">\n<h4><span class=\"pill\">")
            .Append(ReportText.Upper(criterion.Verdict)).Append("</span> ").Append(T(criterion.Name)).Append(" <small>signal ").Append(T(criterion.Signal))
            .Append(criterion.Critical ? " · critical" : string.Empty).Append(criterion.Muted ? " · muted (reported, not counted)" : string.Empty)
            .Append(" · weight ").Append(Number(criterion.Weight)).Append("</small></h4>\n<p class=\"reason\">").Append(T(criterion.Reason)).Append("</p>\n<dl class=\"facts\">\n");
        Fact(html, "Observed", criterion.Observed);
        Fact(html, "Threshold", criterion.Threshold);
        Fact(html, "Baseline", criterion.Baseline);
        html.Append("<dt>Sample size</dt><dd>").Append(criterion.SampleSize.ToString(CultureInfo.InvariantCulture)).Append("</dd>\n");
        if (criterion.BaselineSampleSize is { } baselineSize)
        {
            html.Append("<dt>Baseline sample size</dt><dd>").Append(baselineSize.ToString(CultureInfo.InvariantCulture)).Append("</dd>\n");
        }

        Fact(html, "p-value", criterion.PValue);
        Fact(html, "Effect", criterion.Effect);
        if (criterion.Statistic is { Length: > 0 } statistic)
        {
            html.Append("<dt>Statistic</dt><dd>").Append(T(statistic)).Append("</dd>\n");
        }

        html.Append("</dl>\n");
        var series = criterion.Series.Where(p => double.IsFinite(p.Value)).OrderBy(p => p.Start).ToArray();
        var label = $"{criterion.Name} in {report.Window.Name}";
        if (series.Length >= 2)
        {
            var to = report.EvaluatedAt < report.Window.End ? report.EvaluatedAt : report.Window.End;
            var last = series[^1].Start + series[^1].Width;
            if (last > to)
            {
                to = last < report.Window.End ? last : report.Window.End;
            }

            HtmlChart.Sparkline(html, label, criterion.Statistic ?? criterion.Signal, report.Window.Start, to, series, Finite(criterion.Threshold), Finite(criterion.Baseline));
        }
        else
        {
            html.Append("<table class=\"points\"><caption>Too few time slices to chart (")
                .Append(series.Length.ToString(CultureInfo.InvariantCulture)).Append(series.Length == 1 ? " slice" : " slices").Append("); the values per slice:</caption><thead><tr><th>Slice start</th><th class=\"num\">Value</th><th class=\"num\">Sample size</th></tr></thead><tbody>\n");
            foreach (var point in series)
            {
                html.Append("<tr><td>").Append(ReportText.Timestamp(point.Start)).Append("</td><td class=\"num\">").Append(Number(point.Value)).Append("</td><td class=\"num\">")
                    .Append(point.SampleSize.ToString(CultureInfo.InvariantCulture)).Append("</td></tr>\n");
            }

            html.Append("</tbody></table>\n");
        }

        if (criterion.Evidence.Count > 0)
        {
            AppendEvidenceTable(html, criterion.Evidence);
        }

        html.Append("</div>\n");

        static void Fact(StringBuilder html, string name, double? value)
        {
            if (value is { } v)
            {
                html.Append("<dt>").Append(name).Append("</dt><dd>").Append(Number(v)).Append("</dd>\n");
            }
        }
    }

    private static void AppendEvidenceTable(StringBuilder html, IEnumerable<Evidence> evidence)
    {
        html.Append("<table class=\"evidence\"><thead><tr><th>Evidence</th><th>Observed</th><th>Threshold</th><th>Source</th></tr></thead><tbody>\n");
        foreach (var item in evidence)
        {
            var unit = item.Unit is { Length: > 0 } u ? " " + u : string.Empty;
            var observed = item.IsSensitive ? SecretRedactor.Mask : item.Observed is null ? "(none)" : item.Observed + unit;
            var threshold = item.Threshold is null ? string.Empty : item.IsSensitive ? SecretRedactor.Mask : item.Threshold + unit;
            html.Append("<tr").Append(item.IsSensitive ? " class=\"secret\"" : string.Empty).Append("><td>").Append(T(item.Name)).Append("</td><td>").Append(T(observed))
                .Append("</td><td>").Append(T(threshold)).Append("</td><td>").Append(T(item.Source)).Append("</td></tr>\n");
        }

        html.Append("</tbody></table>\n");
    }

    private static void AppendReconciliation(StringBuilder html, ReconciliationReport? report, ReplayResult? result)
    {
        html.Append("<section id=\"reconciliation\"><h2>Reconciliation</h2>\n")
            .Append("<p class=\"explain\">What differs between the posting journal and the ERP in the scope, by discrepancy class and by what the plan does about it (replay with the same idempotency key, compensate a duplicate, acknowledge what the ERP already holds, or hold for a person), the amounts at stake, the items held for a person and, when the plan was executed, what was done.</p>\n");
        if (report is not null)
        {
            var plan = report.Plan;
            html.Append("<p class=\"meta\">Scope: ").Append(T(plan.Scope.ToString())).Append(" · planned ").Append(ReportText.Timestamp(plan.CreatedAt)).Append("</p>\n");
            if (report.IsClean)
            {
                html.Append("<p class=\"summary\">The journal and the ERP agree in this scope: nothing to replay, compensate or hold.</p>\n");
            }
            else
            {
                var actions = Enum.GetValues<ReconciliationAction>();
                html.Append("<table class=\"discrepancies\"><thead><tr><th>Discrepancy class</th>");
                foreach (var action in actions)
                {
                    html.Append("<th class=\"num\">").Append(action.ToString()).Append("</th>");
                }

                html.Append("<th class=\"num\">Total</th></tr></thead><tbody>\n");
                foreach (var group in plan.Items.GroupBy(i => i.Class).OrderBy(g => g.Key))
                {
                    html.Append("<tr data-class=\"").Append(group.Key.ToString()).Append("\"><td>").Append(group.Key.ToString()).Append("</td>");
                    foreach (var action in actions)
                    {
                        html.Append("<td class=\"num\">").Append(group.Count(i => i.Action == action).ToString(CultureInfo.InvariantCulture)).Append("</td>");
                    }

                    html.Append("<td class=\"num\">").Append(group.Count().ToString(CultureInfo.InvariantCulture)).Append("</td></tr>\n");
                }

                html.Append("<tr class=\"total\"><td><b>Total</b></td>");
                foreach (var action in actions)
                {
                    html.Append("<td class=\"num\" data-action=\"").Append(action.ToString()).Append("\"><b>").Append(plan.Count(action).ToString(CultureInfo.InvariantCulture)).Append("</b></td>");
                }

                html.Append("<td class=\"num\"><b>").Append(plan.Items.Count.ToString(CultureInfo.InvariantCulture)).Append("</b></td></tr>\n</tbody></table>\n");
                if (report.AmountsByCurrency.Count > 0)
                {
                    html.Append("<table class=\"amounts\"><thead><tr><th>Currency</th><th class=\"num\">Amount at stake</th></tr></thead><tbody>\n");
                    foreach (var (currency, amount) in report.AmountsByCurrency.OrderBy(a => a.Key, StringComparer.Ordinal))
                    {
                        html.Append("<tr><td>").Append(T(currency)).Append("</td><td class=\"num\">").Append(amount.ToString(CultureInfo.InvariantCulture)).Append("</td></tr>\n");
                    }

                    html.Append("</tbody></table>\n");
                }

                AppendHeld(html, report.Held);
            }

            AppendDecided(html, report.Decided);
        }

        if (result is not null)
        {
            html.Append("<p><b>Executed:</b></p>\n<table class=\"replay\"><tbody>\n");
            (string Name, int Count)[] rows =
            [
                ("Replayed", result.Replayed), ("Acknowledged", result.Acknowledged), ("Compensated", result.Compensated), ("Held", result.Held),
                ("Rejected by the ERP", result.Rejected), ("Deferred (retry later)", result.Deferred), ("Skipped (settled meanwhile)", result.Skipped), ("Resumed past (checkpoint)", result.ResumedPast),
            ];
            foreach (var (name, count) in rows)
            {
                html.Append("<tr><td>").Append(name).Append("</td><td class=\"num\">").Append(count.ToString(CultureInfo.InvariantCulture)).Append("</td></tr>\n");
            }

            if (result.TenantsBusy.Count > 0)
            {
                html.Append("<tr><td>Tenants busy (another worker)</td><td>").Append(T(string.Join(", ", result.TenantsBusy.Order(StringComparer.Ordinal)))).Append("</td></tr>\n");
            }

            html.Append("</tbody></table>\n");
        }

        html.Append("</section>\n");
    }

    private static void AppendHeld(StringBuilder html, IReadOnlyList<Discrepancy> held)
    {
        if (held.Count == 0)
        {
            html.Append("<p>No item is held for a person.</p>\n");
            return;
        }

        html.Append("<p><b>Held for a person (").Append(held.Count.ToString(CultureInfo.InvariantCulture)).Append("):</b></p>\n")
            .Append("<table class=\"held\"><thead><tr><th>Tenant / kind / business key</th><th>Class</th><th class=\"num\">Amount</th><th>Why</th></tr></thead><tbody>\n");
        foreach (var item in held.OrderBy(i => i.TenantId, StringComparer.Ordinal).ThenBy(i => i.Kind, StringComparer.Ordinal).ThenBy(i => i.BusinessKey, StringComparer.Ordinal).ThenBy(i => i.Class))
        {
            html.Append("<tr><td>").Append(T($"{item.TenantId}/{item.Kind}/{item.BusinessKey}")).Append("</td><td>").Append(item.Class.ToString()).Append("</td><td class=\"num\">")
                .Append(T(item.Amount?.ToString())).Append("</td><td>").Append(T(item.Reason)).Append("</td></tr>\n");
        }

        html.Append("</tbody></table>\n");
    }

    private static void AppendDecided(StringBuilder html, IReadOnlyList<DecidedDiscrepancy> decided)
    {
        if (decided.Count == 0)
        {
            return;
        }

        html.Append("<p><b>Accepted by a person (").Append(decided.Count.ToString(CultureInfo.InvariantCulture)).Append("), not counted above:</b></p>\n")
            .Append("<table class=\"decided\"><thead><tr><th>Tenant / kind / business key</th><th>Class</th><th>Decided by</th><th>When</th><th>Why</th></tr></thead><tbody>\n");
        foreach (var item in decided.OrderBy(d => d.Discrepancy.TenantId, StringComparer.Ordinal).ThenBy(d => d.Discrepancy.Kind, StringComparer.Ordinal).ThenBy(d => d.Discrepancy.BusinessKey, StringComparer.Ordinal).ThenBy(d => d.Discrepancy.Class))
        {
            var d = item.Discrepancy;
            html.Append("<tr data-decided=\"").Append(T(d.BusinessKey)).Append("\"><td>").Append(T($"{d.TenantId}/{d.Kind}/{d.BusinessKey}")).Append("</td><td>").Append(d.Class.ToString())
                .Append("</td><td>").Append(T(item.Decision.DecidedBy)).Append("</td><td>").Append(ReportText.Timestamp(item.Decision.DecidedAt))
                .Append("</td><td>").Append(T(item.Decision.Reason)).Append("</td></tr>\n");
        }

        html.Append("</tbody></table>\n");
    }

    private static string HealthWord(HealthVerdict verdict) => verdict switch
    {
        HealthVerdict.Healthy => "Healthy",
        HealthVerdict.Degraded => "Degraded",
        HealthVerdict.RollBack => "Roll back",
        _ => "Inconclusive",
    };

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    /// <summary>A number for people: up to 6 significant digits, invariant culture.</summary>
    internal static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>Redacted, then HTML-encoded.</summary>
    private static string T(string? value) => E(SecretRedactor.Redact(value));
}
