using System.Diagnostics.CodeAnalysis;

namespace ReleaseKit.Gates.Reporting;

/// <summary>
/// A <see cref="GateReport"/> with every printed string already redacted. Every writer renders this view and
/// never the report itself, so no format can print a secret the others hide.
/// </summary>
/// <remarks>
/// Redaction: the value (and threshold) of evidence marked <see cref="Evidence.IsSensitive"/> becomes
/// <see cref="SecretRedactor.Mask"/>; those secret values are also masked wherever else they occur in the
/// report (a gate that echoes its token in the reason); then every string passes through
/// <see cref="SecretRedactor"/>.
/// </remarks>
internal sealed class ReportView
{
    // Shorter sensitive values are masked where they are declared but not searched for elsewhere:
    // replacing "1" or "on" throughout a report would mangle it.
    private const int MinimumEchoedSecretLength = 4;

    private readonly string[] _knownSecrets;

    private ReportView(GateReport report, string[] knownSecrets)
    {
        _knownSecrets = knownSecrets;
        var manifest = report.Manifest;
        ReleaseId = Text(manifest.ReleaseId);
        Version = Text(manifest.Version);
        Commit = Text(manifest.Commit);
        ArtifactDigest = Text(manifest.ArtifactDigest);
        BuildTime = manifest.BuildTime;
        Author = Text(manifest.Author);
        Approvers = Texts(manifest.Approvers);
        ChangeClasses = Texts(manifest.ChangeClasses);
        Migrations = Texts(manifest.Migrations);
        FeatureFlags = Texts(manifest.FeatureFlags);
        RollbackInstructions = Text(manifest.RollbackInstructions);
        ManifestSource = Text(manifest.Source);
        Environment = Text(report.EnvironmentName);
        Stages = report.Stages;
        StartedAt = report.StartedAt;
        CompletedAt = report.CompletedAt;
        Verdict = report.Verdict;
        Summary = Text(report.Summary);
        Sampled = report.Sampled;
        ExitCode = report.ExitCode;
        Rounds = [.. report.Rounds.Select(r => new RoundView(r.Number, r.StartedAt, r.Duration, r.Verdict, [.. r.Entries.Select(Entry)]))];
        Counts = ReportCounts.Of(Rounds[^1].Entries);
    }

    public string ReleaseId { get; }

    public string Version { get; }

    public string? Commit { get; }

    public string? ArtifactDigest { get; }

    public DateTimeOffset? BuildTime { get; }

    public string? Author { get; }

    public IReadOnlyList<string> Approvers { get; }

    public IReadOnlyList<string> ChangeClasses { get; }

    public IReadOnlyList<string> Migrations { get; }

    public IReadOnlyList<string> FeatureFlags { get; }

    public string? RollbackInstructions { get; }

    public string? ManifestSource { get; }

    public string Environment { get; }

    public IReadOnlyList<GateStage> Stages { get; }

    public DateTimeOffset StartedAt { get; }

    public DateTimeOffset CompletedAt { get; }

    public TimeSpan Duration => CompletedAt - StartedAt;

    public Verdict Verdict { get; }

    public string Summary { get; }

    public bool Sampled { get; }

    public int ExitCode { get; }

    public IReadOnlyList<RoundView> Rounds { get; }

    /// <summary>Gets the last round's entries: the outcome that decided the run.</summary>
    public IReadOnlyList<EntryView> Entries => Rounds[^1].Entries;

    /// <summary>Gets the counts of the deciding (last) round.</summary>
    public ReportCounts Counts { get; }

    public static ReportView From(GateReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var secrets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var round in report.Rounds)
        {
            foreach (var entry in round.Entries)
            {
                foreach (var evidence in entry.Result.Evidence)
                {
                    if (evidence.IsSensitive)
                    {
                        AddSecret(secrets, evidence.Observed);
                        AddSecret(secrets, evidence.Threshold);
                    }
                }
            }
        }

        // Longest first, so a secret that contains another is masked whole.
        var known = secrets.OrderByDescending(s => s.Length).ThenBy(s => s, StringComparer.Ordinal).ToArray();
        return new ReportView(report, known);
    }

    private static void AddSecret(HashSet<string> secrets, string? value)
    {
        var trimmed = value?.Trim();
        if (trimmed is { Length: >= MinimumEchoedSecretLength } && trimmed != SecretRedactor.Mask)
        {
            secrets.Add(trimmed);
        }
    }

    private EntryView Entry(GateEntry entry)
    {
        var result = entry.Result;
        return new EntryView(
            Text(entry.Name),
            entry.Stage,
            entry.Severity,
            entry.DryRun,
            Texts(entry.Tags),
            entry.Verdict,
            result.Verdict,
            Text(result.Reason),
            entry.Attempts,
            result.Duration,
            result.Error is { } error ? new ErrorView(Text(error.Type), Text(error.Message)) : null,
            [.. result.Evidence.Select(EvidenceOf)],
            entry.CountsTowardVerdict,
            entry.IsBlocking);
    }

    private EvidenceView EvidenceOf(Evidence evidence) => new(
        Text(evidence.Name),
        evidence.IsSensitive ? Masked(evidence.Observed) : Text(evidence.Observed),
        evidence.IsSensitive ? Masked(evidence.Threshold) : Text(evidence.Threshold),
        Text(evidence.Unit),
        Text(evidence.Source),
        evidence.IsSensitive);

    private static string? Masked(string? value) => value is null ? null : SecretRedactor.Mask;

    private string[] Texts(IEnumerable<string> values) => [.. values.Select(v => Text(v))];

    [return: NotNullIfNotNull(nameof(value))]
    private string? Text(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return value;
        }

        foreach (var secret in _knownSecrets)
        {
            if (value.Contains(secret, StringComparison.Ordinal))
            {
                value = value.Replace(secret, SecretRedactor.Mask, StringComparison.Ordinal);
            }
        }

        return SecretRedactor.Redact(value);
    }
}

/// <summary>One round, redacted.</summary>
internal sealed record RoundView(int Number, DateTimeOffset StartedAt, TimeSpan Duration, Verdict Verdict, IReadOnlyList<EntryView> Entries);

/// <summary>One gate's outcome, redacted.</summary>
internal sealed record EntryView(
    string Name,
    GateStage Stage,
    GateSeverity Severity,
    bool DryRun,
    IReadOnlyList<string> Tags,
    Verdict Verdict,
    Verdict RawVerdict,
    string Reason,
    int Attempts,
    TimeSpan Duration,
    ErrorView? Error,
    IReadOnlyList<EvidenceView> Evidence,
    bool CountsTowardVerdict,
    bool IsBlocking);

/// <summary>The error a gate threw, redacted.</summary>
internal sealed record ErrorView(string Type, string Message);

/// <summary>One piece of evidence, redacted.</summary>
internal sealed record EvidenceView(string Name, string? Observed, string? Threshold, string? Unit, string? Source, bool Sensitive);

/// <summary>How many gates ended how in a round. Dry-run gates are counted apart and in no verdict column.</summary>
internal readonly record struct ReportCounts(int Total, int Counted, int Pass, int Warn, int Inconclusive, int Fail, int DryRun, int Blocking)
{
    public static ReportCounts Of(IReadOnlyList<EntryView> entries)
    {
        int pass = 0, warn = 0, inconclusive = 0, fail = 0, dryRun = 0, blocking = 0;
        foreach (var entry in entries)
        {
            if (!entry.CountsTowardVerdict)
            {
                dryRun++;
                continue;
            }

            switch (entry.Verdict)
            {
                case Verdict.Pass: pass++; break;
                case Verdict.Warn: warn++; break;
                case Verdict.Inconclusive: inconclusive++; break;
                default: fail++; break;
            }

            if (entry.IsBlocking)
            {
                blocking++;
            }
        }

        return new ReportCounts(entries.Count, entries.Count - dryRun, pass, warn, inconclusive, fail, dryRun, blocking);
    }
}
