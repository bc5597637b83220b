using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ReleaseKit.Gates.Reporting;
using ReleaseKit.Reconciliation;

namespace ReleaseKit.Hosting.Cli;

/// <summary>
/// <c>releasekit reconcile --release V [--from T --to T] [--tenant X]... [--kind K]... [--dry-run]</c>: plan the repairs of
/// a release's postings with the registered <see cref="Reconciler"/>, print the plan, and unless <c>--dry-run</c> execute it.
/// <c>releasekit reconcile accept --release V --tenant X --kind K --key B --by NAME --reason TEXT</c> records that a person
/// accepts a held item as it is.
/// </summary>
internal static class ReconcileCommand
{
    private const string AcceptedTimes = "accepted formats: an ISO 8601 date-time with an offset (2026-11-27T14:00:00Z, 2026-11-27T15:00:00+01:00) or a date (2026-11-27, midnight UTC)";

    private static readonly DateTimeOffset Beginning = new(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static Command Create(CommandConsole console)
    {
        var release = new Option<string>("--release")
        {
            Description = "The release version whose postings are reconciled (as journaled with each posting). Required.",
            HelpName = "version",
            Required = true,
        };
        var from = TimeOption("--from", "The first posting date (inclusive). Default: 1970-01-01T00:00:00Z.");
        var to = TimeOption("--to", "The end of the posting dates (exclusive). Default: now.");
        var tenant = new Option<string[]>("--tenant")
        {
            Description = "Only this tenant; repeat for several. Default: every tenant with journaled postings.",
            HelpName = "tenant",
            AllowMultipleArgumentsPerToken = false,
        };
        var kind = new Option<string[]>("--kind")
        {
            Description = "Only this posting kind (for example invoice-export, erp-journal-entry, time-entry-sync); repeat for several. Default: every kind.",
            HelpName = "kind",
        };
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Print the plan and change nothing (neither the journal nor the ERP).",
        };
        var format = new Option<string>("--format")
        {
            Description = "Output format: console or json. Default: console.",
            HelpName = "format",
            DefaultValueFactory = _ => "console",
        };
        format.AcceptOnlyFromAmong("console", "json");
        var command = new Command(
            "reconcile",
            "Compare the posting journal with the ERP for a release, plan the repairs (replay what is missing, reverse duplicates, acknowledge what the ERP holds, hold the rest for a person) and execute them exactly once, with a progress bar. Items a person accepted (reconcile accept) are listed as decided and do not count. Exit code 0 when nothing is left to do or everything was repaired, 1 when items are held for a person, failed or remain (a dry run with work to do), 2 for bad input.");
        command.Options.Add(release);
        command.Options.Add(from);
        command.Options.Add(to);
        command.Options.Add(tenant);
        command.Options.Add(kind);
        command.Options.Add(dryRun);
        command.Options.Add(format);
        command.Subcommands.Add(CreateAccept(console));
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            console,
            new Arguments(
                parseResult.GetValue(release)!,
                parseResult.GetValue(from),
                parseResult.GetValue(to),
                parseResult.GetValue(tenant) ?? [],
                parseResult.GetValue(kind) ?? [],
                parseResult.GetValue(dryRun),
                string.Equals(parseResult.GetValue(format), "json", StringComparison.OrdinalIgnoreCase)),
            cancellationToken));
        return command;
    }

    /// <summary>Parses a point in time for <c>--from</c>/<c>--to</c>; false with nothing else for anything ambiguous (no offset).</summary>
    internal static bool TryParseTime(string text, out DateTimeOffset value)
    {
        text = text.Trim();
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            value = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return true;
        }

        // An offset or Z is required: a bare local time would mean something else on every machine.
        var hasOffset = text.EndsWith('Z') || text.EndsWith('z')
            || (text.Length > 6 && (text[^6] is '+' or '-') && text[^3] == ':');
        if (hasOffset && text.Contains('T', StringComparison.OrdinalIgnoreCase)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out value))
        {
            return true;
        }

        value = default;
        return false;
    }

    private static Option<DateTimeOffset?> TimeOption(string name, string description) => new(name)
    {
        Description = description + " Format: 2026-11-27T14:00:00Z, 2026-11-27T15:00:00+01:00 or 2026-11-27.",
        HelpName = "time",
        CustomParser = result =>
        {
            var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (!TryParseTime(token, out var value))
            {
                result.AddError($"{name} '{token}' is not a point in time; {AcceptedTimes}.");
                return null;
            }

            return value;
        },
    };

    private static async Task<int> RunAsync(CommandConsole console, Arguments args, CancellationToken cancellationToken)
    {
        var reconciler = ResolveReconciler(console);
        var services = console.Services;
        var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var from = args.From ?? Beginning;
        var to = args.To ?? time.GetUtcNow();
        if (from >= to)
        {
            throw new UsageException($"--from {from:O} is not before --to {to:O} (now, by default): pass an earlier --from or a later --to.");
        }

        var scopes = BuildScopes(args, from, to);
        var plans = new List<ReconciliationPlan>(scopes.Count);
        try
        {
            foreach (var scope in scopes)
            {
                plans.Add(await reconciler.PlanAsync(scope, cancellationToken).ConfigureAwait(false));
            }
        }
        catch (DbException ex)
        {
            throw new UsageException(SecretRedactor.Redact($"Cannot read the posting journal: {ex.Message} Check the data source passed to AddReconciliation(...) (connection string, file, permissions)."), ex);
        }

        var output = console.Output;
        var items = plans.SelectMany(p => p.Items).ToArray();
        var decided = plans.SelectMany(p => p.Decided).ToArray();
        if (!args.Json)
        {
            await output.WriteAsync(SecretRedactor.Redact(RenderPlan(args, from, to, items, decided))).ConfigureAwait(false);
        }

        if (args.DryRun || items.Length == 0)
        {
            if (args.Json)
            {
                await output.WriteAsync(Json(args, from, to, items, decided, null, null)).ConfigureAwait(false);
            }
            else
            {
                await output.WriteLineAsync(items.Length == 0
                    ? "Nothing to do: the journal and the ERP agree" + (decided.Length == 0 ? "." : $", apart from {decided.Length} difference(s) a person accepted.")
                    : $"Dry run: nothing was changed. Run again without --dry-run to execute the {items.Count(i => i.Action != ReconciliationAction.Hold)} repair(s).").ConfigureAwait(false);
            }

            return items.Length == 0 ? ReleaseKitExitCodes.Pass : ReleaseKitExitCodes.Fail;
        }

        var runId = string.Create(CultureInfo.InvariantCulture, $"releasekit-reconcile-{args.Release}-{time.GetUtcNow():yyyyMMddTHHmmssfffZ}");
        var total = plans.Sum(p => p.Items.Count);
        var progress = new ProgressBar(output, args.Json ? null : output, Interactive(output), total);
        var results = new List<ReplayResult>(plans.Count);
        var remaining = new List<Discrepancy>();
        try
        {
            foreach (var plan in plans)
            {
                if (plan.Items.Count == 0)
                {
                    continue;
                }

                results.Add(await reconciler.ExecuteAsync(plan, runId, progress.For(plan.Items.Count), cancellationToken).ConfigureAwait(false));
            }

            progress.Finish();

            // Fail closed: what remains is read back from the journal and the ERP, not inferred from the counters.
            foreach (var scope in scopes)
            {
                remaining.AddRange((await reconciler.PlanAsync(scope, cancellationToken).ConfigureAwait(false)).Items);
            }
        }
        catch (Exception ex) when (ex is DbException or ErpTransientException or TimeoutException or HttpRequestException)
        {
            // The journal or the ERP went away mid-run. What was done is recorded (the reconciler writes acknowledgements and
            // checkpoints before it gives up); what is left is unknown, so the run fails rather than claiming success.
            progress.Finish();
            await console.Error.WriteLineAsync(SecretRedactor.Redact($"error: the reconciliation stopped: {ex.Message} What was done is recorded; run the same command again to continue (a dry run shows what is left).")).ConfigureAwait(false);
            return ReleaseKitExitCodes.Fail;
        }

        if (args.Json)
        {
            await output.WriteAsync(Json(args, from, to, items, decided, results, remaining)).ConfigureAwait(false);
        }
        else
        {
            var outcome = new StringBuilder();
            outcome.Append(CultureInfo.InvariantCulture, $"Outcome (run {runId}): ").AppendJoin("; ", results.Select(r => r.ToString())).Append('\n');
            if (remaining.Count == 0)
            {
                outcome.Append("Done: the journal and the ERP agree.\n");
            }
            else
            {
                outcome.Append(CultureInfo.InvariantCulture, $"Left to do: {remaining.Count} item(s) ({string.Join(", ", remaining.GroupBy(i => i.Action).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"))}).\n");
                foreach (var item in remaining)
                {
                    outcome.Append(CultureInfo.InvariantCulture, $"  {item.Action.ToString().ToUpperInvariant(),-11} {item.TenantId}/{item.Kind}/{item.BusinessKey} [{item.Class}] - {item.Reason}\n");
                }
            }

            await output.WriteAsync(SecretRedactor.Redact(outcome.ToString())).ConfigureAwait(false);
        }

        return remaining.Count == 0 ? ReleaseKitExitCodes.Pass : ReleaseKitExitCodes.Fail;
    }

    private static Reconciler ResolveReconciler(CommandConsole console)
    {
        console.ValidateConfiguration();
        var services = console.Services;
        if (services.GetService<IServiceProviderIsService>() is { } isService && !isService.IsService(typeof(Reconciler)))
        {
            throw new UsageException("ReleaseKit.Reconciliation is not registered. Register it where the application configures its services: services.AddReleaseKit().AddReconciliation(sp => journalDataSource), with the application's IErpGateway (services.AddSingleton<IErpGateway, MyErpGateway>()).");
        }

        try
        {
            return services.GetRequiredService<Reconciler>();
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains(nameof(IErpGateway), StringComparison.Ordinal))
        {
            throw new UsageException($"Reconciliation needs the application's ERP gateway: register an {nameof(IErpGateway)} (services.AddSingleton<IErpGateway, MyErpGateway>()).", ex);
        }
    }

    private static Command CreateAccept(CommandConsole console)
    {
        Option<string> Text(string name, string description, string helpName) => new(name) { Description = description, HelpName = helpName, Required = true };
        var release = Text("--release", "The release version whose plan holds the item (as for releasekit reconcile). Required.", "version");
        var tenant = Text("--tenant", "The held item's tenant. Required.", "tenant");
        var kind = Text("--kind", "The held item's posting kind (for example invoice-export). Required.", "kind");
        var key = Text("--key", "The held item's business key (for example INV-2026-0007). Required.", "business-key");
        var by = Text("--by", "Who decides (a name or an account); recorded with the decision. Required, not blank.", "name");
        var reason = Text("--reason", "Why the difference is accepted as it is; recorded with the decision. Required, not blank.", "text");
        var from = TimeOption("--from", "The first posting date (inclusive) of the plan to look in. Default: 1970-01-01T00:00:00Z.");
        var to = TimeOption("--to", "The end of the posting dates (exclusive) of the plan to look in. Default: now.");
        var command = new Command(
            "accept",
            "Record that a person accepts a held item as it is (an orphan posted by hand, an amount a person judged, ...): plans the tenant's postings of the release, finds the item among the held ones and records the decision with who, why and when. Later plans leave the item out while it stays exactly as decided on; if it changes it is held again. Exit code 0 when recorded (or already recorded), 2 when the item is not held or not found (the held items are listed) or --by/--reason is blank.");
        foreach (var option in new Option[] { release, tenant, kind, key, by, reason, from, to })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) => AcceptAsync(
            console,
            new AcceptArguments(
                parseResult.GetValue(release)!,
                parseResult.GetValue(tenant)!,
                parseResult.GetValue(kind)!,
                parseResult.GetValue(key)!,
                parseResult.GetValue(by)!,
                parseResult.GetValue(reason)!,
                parseResult.GetValue(from),
                parseResult.GetValue(to)),
            cancellationToken));
        return command;
    }

    private static async Task<int> AcceptAsync(CommandConsole console, AcceptArguments args, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(args.By))
        {
            throw new UsageException("--by is blank: say who decides (a name or an account); it is recorded with the decision.");
        }

        if (string.IsNullOrWhiteSpace(args.Reason))
        {
            throw new UsageException("--reason is blank: say why the difference is accepted as it is; it is recorded with the decision.");
        }

        if (string.IsNullOrWhiteSpace(args.Key))
        {
            throw new UsageException("--key is blank: pass the held item's business key as the plan prints it (tenant/kind/KEY).");
        }

        var reconciler = ResolveReconciler(console);
        var time = console.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        var from = args.From ?? Beginning;
        var to = args.To ?? time.GetUtcNow();
        if (from >= to)
        {
            throw new UsageException($"--from {from:O} is not before --to {to:O} (now, by default): pass an earlier --from or a later --to.");
        }

        var kind = Kind(args.Kind);
        var scope = BuildScopes(new Arguments(args.Release, from, to, [args.Tenant], [], true, false), from, to)[0];
        ReconciliationPlan plan;
        try
        {
            plan = await reconciler.PlanAsync(scope, cancellationToken).ConfigureAwait(false);
        }
        catch (DbException ex)
        {
            throw new UsageException(SecretRedactor.Redact($"Cannot read the posting journal: {ex.Message} Check the data source passed to AddReconciliation(...) (connection string, file, permissions)."), ex);
        }

        var name = $"{args.Tenant}/{kind}/{args.Key}";
        bool Same(Discrepancy d) => d.Kind == kind.Value && string.Equals(d.BusinessKey, args.Key, StringComparison.Ordinal);
        if (plan.Decided.FirstOrDefault(d => Same(d.Discrepancy)) is { } already)
        {
            await console.Output.WriteLineAsync(SecretRedactor.Redact($"{name} [{already.Discrepancy.Class}] is already accepted as is by {already.Decision.DecidedBy} at {already.Decision.DecidedAt:O}: {already.Decision.Reason} Nothing was recorded.")).ConfigureAwait(false);
            return ReleaseKitExitCodes.Pass;
        }

        var held = plan.Items.Where(i => i.Action == ReconciliationAction.Hold).ToArray();
        var item = plan.Items.FirstOrDefault(Same);
        if (item is null || item.Action != ReconciliationAction.Hold)
        {
            var what = item is null
                ? $"{name} is not in the plan for release {args.Release}, {from:O} to {to:O} (the journal and the ERP agree about it, or it is outside the range or the release)."
                : $"{name} [{item.Class}] is not held: the plan will {item.Action.ToString().ToLowerInvariant()} it by itself (run releasekit reconcile --release {args.Release}); only items held for a person can be accepted.";
            var list = held.Length == 0
                ? $" Nothing is held for tenant '{args.Tenant}' in that plan."
                : $" Held for tenant '{args.Tenant}' ({held.Length}): " + string.Join("; ", held.Select(h => $"--kind {h.Kind} --key {h.BusinessKey} [{h.Class}]"));
            throw new UsageException(SecretRedactor.Redact(what + list));
        }

        var decision = await reconciler.RecordDecisionAsync(item, args.By, args.Reason, cancellationToken).ConfigureAwait(false);
        await console.Output.WriteAsync(SecretRedactor.Redact(
            $"Accepted as is: {name} [{item.Class}] - {item.Reason}\n"
            + $"Decided by {decision.DecidedBy} at {decision.DecidedAt:O}: {decision.Reason}\n"
            + "Plans leave it out from now on, as long as it stays exactly as it is; if it changes it is held again.\n")).ConfigureAwait(false);
        return ReleaseKitExitCodes.Pass;
    }

    private static List<ReconciliationScope> BuildScopes(Arguments args, DateTimeOffset from, DateTimeOffset to)
    {
        var scopes = new List<ReconciliationScope>();
        PostingKind?[] kinds = args.Kinds.Length == 0 ? [null] : [.. args.Kinds.Distinct(StringComparer.Ordinal).Select(k => (PostingKind?)Kind(k))];
        foreach (var kind in kinds)
        {
            try
            {
                scopes.Add(new ReconciliationScope(from, to, args.Tenants, args.Release, kind));
            }
            catch (ArgumentException ex)
            {
                var option = ex.ParamName switch
                {
                    "tenantIds" => "--tenant",
                    "releaseVersion" => "--release",
                    "kind" => "--kind",
                    _ => "--from/--to",
                };
                throw new UsageException($"{option}: {ex.Message}", ex);
            }
        }

        return scopes;
    }

    private static PostingKind Kind(string value)
    {
        try
        {
            return new PostingKind(value);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--kind '{value}': {ex.Message} Use a kind as journaled, for example {PostingKind.InvoiceExport}, {PostingKind.ErpJournalEntry} or {PostingKind.TimeEntrySync}.", ex);
        }
    }

    private static bool Interactive(TextWriter output) => ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;

    private static string RenderPlan(Arguments args, DateTimeOffset from, DateTimeOffset to, IReadOnlyList<Discrepancy> items, IReadOnlyList<DecidedDiscrepancy> decided)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Reconciliation plan for release {args.Release}, {from:O} to {to:O}, tenants {(args.Tenants.Length == 0 ? "all" : string.Join(", ", args.Tenants))}, kinds {(args.Kinds.Length == 0 ? "all" : string.Join(", ", args.Kinds))}: {items.Count} item(s)")
            .Append(decided.Count == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $", {decided.Count} decided by a person"))
            .Append('\n');
        foreach (var (item, decision) in decided.Select(d => (d.Discrepancy, d.Decision)))
        {
            text.Append(CultureInfo.InvariantCulture, $"  {"DECIDED",-11} {item.TenantId}/{item.Kind}/{item.BusinessKey} [{item.Class}] - accepted as is by {decision.DecidedBy} at {decision.DecidedAt:O}: {decision.Reason}\n");
        }

        if (items.Count == 0)
        {
            return text.ToString();
        }

        text.Append("By action: ").AppendJoin(", ", Enum.GetValues<ReconciliationAction>().Select(a => string.Create(CultureInfo.InvariantCulture, $"{items.Count(i => i.Action == a)} {a.ToString().ToLowerInvariant()}"))).Append('\n');
        text.Append("By class:  ").AppendJoin(", ", items.GroupBy(i => i.Class).OrderBy(g => g.Key).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count()} {g.Key}"))).Append('\n');
        foreach (var item in items)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {item.Action.ToString().ToUpperInvariant(),-11} {item.TenantId}/{item.Kind}/{item.BusinessKey} [{item.Class}]");
            if (item.Amount is { } amount)
            {
                text.Append(CultureInfo.InvariantCulture, $" {amount}");
            }

            text.Append(" - ").Append(item.Reason).Append('\n');
        }

        var held = items.Where(i => i.Action == ReconciliationAction.Hold).ToArray();
        if (held.Length > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"Held for a person ({held.Length}): ").AppendJoin("; ", held.Select(i => $"{i.TenantId}/{i.Kind}/{i.BusinessKey}: {i.Reason}")).Append('\n');
            text.Append(CultureInfo.InvariantCulture, $"To accept one as it is: releasekit reconcile accept --release {args.Release} --tenant <tenant> --kind <kind> --key <key> --by <name> --reason \"<why>\"\n");
        }

        return text.ToString();
    }

    private static string Json(Arguments args, DateTimeOffset from, DateTimeOffset to, IReadOnlyList<Discrepancy> items, IReadOnlyList<DecidedDiscrepancy> decided, IReadOnlyList<ReplayResult>? results, IReadOnlyList<Discrepancy>? remaining)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("release", args.Release);
            json.WriteString("from", from);
            json.WriteString("to", to);
            json.WriteBoolean("dryRun", args.DryRun);
            json.WriteStartObject("plan");
            json.WriteNumber("items", items.Count);
            json.WriteStartObject("byAction");
            foreach (var action in Enum.GetValues<ReconciliationAction>())
            {
                json.WriteNumber(action.ToString().ToLowerInvariant(), items.Count(i => i.Action == action));
            }

            json.WriteEndObject();
            json.WriteStartObject("byClass");
            foreach (var group in items.GroupBy(i => i.Class).OrderBy(g => g.Key))
            {
                json.WriteNumber(group.Key.ToString(), group.Count());
            }

            json.WriteEndObject();
            WriteItems(json, "entries", items);
            json.WriteStartArray("decided");
            foreach (var (item, decision) in decided.Select(d => (d.Discrepancy, d.Decision)))
            {
                json.WriteStartObject();
                json.WriteString("class", item.Class.ToString());
                json.WriteString("tenant", item.TenantId);
                json.WriteString("kind", item.Kind);
                json.WriteString("businessKey", item.BusinessKey);
                json.WriteString("decision", "acceptAsIs");
                json.WriteString("decidedBy", SecretRedactor.Redact(decision.DecidedBy));
                json.WriteString("decidedAt", decision.DecidedAt);
                json.WriteString("reason", SecretRedactor.Redact(decision.Reason));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            if (results is not null)
            {
                json.WriteStartObject("outcome");
                json.WriteNumber("replayed", results.Sum(r => r.Replayed));
                json.WriteNumber("acknowledged", results.Sum(r => r.Acknowledged));
                json.WriteNumber("compensated", results.Sum(r => r.Compensated));
                json.WriteNumber("held", results.Sum(r => r.Held));
                json.WriteNumber("rejected", results.Sum(r => r.Rejected));
                json.WriteNumber("deferred", results.Sum(r => r.Deferred));
                json.WriteNumber("skipped", results.Sum(r => r.Skipped));
                json.WriteNumber("resumedPast", results.Sum(r => r.ResumedPast));
                json.WriteStartArray("tenantsBusy");
                foreach (var busy in results.SelectMany(r => r.TenantsBusy))
                {
                    json.WriteStringValue(busy);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            var left = remaining ?? items;
            WriteItems(json, "remaining", left);
            json.WriteString("verdict", left.Count == 0 ? "pass" : "fail");
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteItems(Utf8JsonWriter json, string name, IEnumerable<Discrepancy> items)
    {
        json.WriteStartArray(name);
        foreach (var item in items)
        {
            json.WriteStartObject();
            json.WriteString("action", item.Action.ToString().ToLowerInvariant());
            json.WriteString("class", item.Class.ToString());
            json.WriteString("tenant", item.TenantId);
            json.WriteString("kind", item.Kind.ToString());
            json.WriteString("businessKey", item.BusinessKey);
            if (item.Amount is { } amount)
            {
                json.WriteString("amount", amount.Amount.ToString(CultureInfo.InvariantCulture));
                json.WriteString("currency", amount.Currency);
            }

            json.WriteString("reason", SecretRedactor.Redact(item.Reason));
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private sealed record AcceptArguments(string Release, string Tenant, string Kind, string Key, string By, string Reason, DateTimeOffset? From, DateTimeOffset? To);

    private sealed record Arguments(string Release, DateTimeOffset? From, DateTimeOffset? To, string[] Tenants, string[] Kinds, bool DryRun, bool Json);

    /// <summary>
    /// Draws the replay's progress: redrawn in place with <c>\r</c> on an interactive console, otherwise one line per 10%.
    /// Synchronous (not <see cref="Progress{T}"/>, which posts to the thread pool and could print out of order).
    /// </summary>
    private sealed class ProgressBar(TextWriter output, TextWriter? target, bool interactive, int total)
    {
        private const int Width = 30;
        private int _done;
        private int _lastDecile = -1;

        public IProgress<ReplayProgress> For(int planItems) => new PlanProgress(this, _done, planItems);

        public void Finish()
        {
            if (target is not null && interactive)
            {
                output.Write('\n');
            }
        }

        private void Report(int processed, string tenant)
        {
            _done = processed;
            if (target is null || total == 0)
            {
                return;
            }

            var percent = (int)Math.Min(100, 100L * processed / total);
            if (interactive)
            {
                var filled = Width * percent / 100;
                target.Write(string.Create(CultureInfo.InvariantCulture, $"\r[{new string('#', filled)}{new string('.', Width - filled)}] {percent,3}% {processed}/{total} {tenant}    "));
                return;
            }

            var decile = percent / 10;
            if (decile > _lastDecile)
            {
                _lastDecile = decile;
                target.Write(string.Create(CultureInfo.InvariantCulture, $"progress: {percent}% ({processed}/{total}), tenant {tenant}\n"));
            }
        }

        private sealed class PlanProgress(ProgressBar bar, int offset, int items) : IProgress<ReplayProgress>
        {
            public void Report(ReplayProgress value)
            {
                ArgumentNullException.ThrowIfNull(value);
                bar.Report(offset + Math.Min(value.Processed, items), value.CurrentTenantId);
            }
        }
    }
}
