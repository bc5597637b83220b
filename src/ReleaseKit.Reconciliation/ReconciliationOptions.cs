using System.Globalization;
using Microsoft.Extensions.Options;

namespace ReleaseKit.Reconciliation;

/// <summary>Options of reconciliation and replay. Validated at startup when registered with <c>AddReconciliation</c>.</summary>
public sealed class ReconciliationOptions
{
    /// <summary>Gets or sets how long a worker owns a posting (or a tenant) it claimed before another may take over. Default 5 minutes.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how many times a transient ERP failure is retried (0 to 20). Default 3. Definite rejections are never retried.</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Gets or sets the first retry delay (exponential back-off with jitter follows). Default 200 ms; zero retries at once.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets the most posts per second sent to the ERP (token bucket); <see langword="null"/> for no limit. Default 50.</summary>
    public double? MaxPostsPerSecond { get; set; } = 50;

    /// <summary>Gets or sets how many posts may be sent at once above the rate (the bucket's size, 1 or more). Default 10.</summary>
    public int Burst { get; set; } = 10;

    /// <summary>Gets or sets how many journal rows are read per page (1 to 100000). Default 1000.</summary>
    public int PageSize { get; set; } = 1000;

    /// <summary>Gets or sets after how many items a replay saves its checkpoint and renews its tenant lease (1 to 100000). Default 50.</summary>
    public int CheckpointInterval { get; set; } = 50;

    /// <summary>Gets or sets this worker's name in the journal's owner column; a new unique name when <see langword="null"/>.</summary>
    public string? WorkerId { get; set; }

    /// <summary>Gets or sets the age above which an unacknowledged posting fails the backlog gate. Default 1 hour.</summary>
    public TimeSpan BacklogBound { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Gets or sets how far back the backlog gate also compares the journal with the ERP, or <see langword="null"/> (the
    /// default) to read the journal only. When set, the gate plans a reconciliation (read-only) of the postings journaled
    /// between <c>now - BacklogBound - BacklogErpLookback</c> and <c>now - BacklogBound</c>, and fails while that plan is not
    /// empty: what the journal alone cannot show — an acknowledged posting the ERP does not hold, a duplicate, an orphan.
    /// An ERP that cannot be read makes the gate Inconclusive, never a pass.
    /// </summary>
    public TimeSpan? BacklogErpLookback { get; set; }
}

/// <summary>Validates <see cref="ReconciliationOptions"/>, naming the option and the allowed values.</summary>
internal sealed class ReconciliationOptionsValidator : IValidateOptions<ReconciliationOptions>
{
    public ValidateOptionsResult Validate(string? name, ReconciliationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void Check(bool ok, string message)
        {
            if (!ok)
            {
                failures.Add("Reconciliation options: " + string.Create(CultureInfo.InvariantCulture, $"{message}"));
            }
        }

        Check(options.LeaseDuration > TimeSpan.Zero && options.LeaseDuration <= TimeSpan.FromDays(1), $"LeaseDuration is {options.LeaseDuration}; allowed values are more than zero and at most 1 day.");
        Check(options.MaxRetryAttempts is >= 0 and <= 20, $"MaxRetryAttempts is {options.MaxRetryAttempts}; allowed values are 0 to 20.");
        Check(options.RetryDelay >= TimeSpan.Zero && options.RetryDelay <= TimeSpan.FromMinutes(5), $"RetryDelay is {options.RetryDelay}; allowed values are 0 to 5 minutes.");
        Check(options.MaxPostsPerSecond is null || (double.IsFinite(options.MaxPostsPerSecond.Value) && options.MaxPostsPerSecond > 0), $"MaxPostsPerSecond is {options.MaxPostsPerSecond}; allowed values are a positive finite number or null (no limit).");
        Check(options.Burst >= 1, $"Burst is {options.Burst}; allowed values are 1 or more.");
        Check(options.PageSize is >= 1 and <= 100_000, $"PageSize is {options.PageSize}; allowed values are 1 to 100000.");
        Check(options.CheckpointInterval is >= 1 and <= 100_000, $"CheckpointInterval is {options.CheckpointInterval}; allowed values are 1 to 100000.");
        Check(options.WorkerId is null || !string.IsNullOrWhiteSpace(options.WorkerId), "WorkerId is blank; set a name or leave it null for a generated one.");
        Check(options.BacklogBound > TimeSpan.Zero, $"BacklogBound is {options.BacklogBound}; allowed values are more than zero.");
        Check(options.BacklogErpLookback is null || (options.BacklogErpLookback > TimeSpan.Zero && options.BacklogErpLookback <= TimeSpan.FromDays(366)), $"BacklogErpLookback is {options.BacklogErpLookback}; allowed values are null (journal only) or more than zero and at most 366 days.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
