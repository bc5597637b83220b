using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ReleaseKit.Gates;

/// <summary>
/// Options of the approvals gate: how many approvers each change class needs, and which group approvers must belong to.
/// </summary>
public sealed class ApprovalPolicyOptions
{
    /// <summary>Gets the number of approvers each change class requires (case-insensitive). The release needs the largest of its classes' numbers.</summary>
    public IDictionary<string, int> RequiredApprovers { get; } = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets or sets how many approvers a change class not listed in <see cref="RequiredApprovers"/> needs. Default 1.</summary>
    public int UnlistedChangeClassApprovers { get; set; } = 1;

    /// <summary>Gets or sets how many approvers every release needs, whatever its classes. Default 1.</summary>
    public int MinimumApprovers { get; set; } = 1;

    /// <summary>Gets or sets the group approvers must belong to (checked with <see cref="IApproverDirectory"/>); <see langword="null"/> accepts anyone but the author.</summary>
    public string? ApproverGroup { get; set; }

    /// <summary>Gets the members of groups, for the built-in directory used when no <see cref="IApproverDirectory"/> is registered.</summary>
    public IDictionary<string, ISet<string>> GroupMembers { get; } = new Dictionary<string, ISet<string>>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Requires <paramref name="approvers"/> approvers for releases of <paramref name="changeClass"/>.</summary>
    /// <param name="changeClass">The change class, for example <see cref="ChangeClasses.BillingLogic"/>.</param>
    /// <param name="approvers">The number of approvers.</param>
    /// <returns>These options.</returns>
    public ApprovalPolicyOptions Require(string changeClass, int approvers)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(changeClass);
        RequiredApprovers[changeClass] = approvers;
        return this;
    }

    /// <summary>Declares the members of a group for the built-in directory.</summary>
    /// <param name="group">The group.</param>
    /// <param name="members">Its members' user ids.</param>
    /// <returns>These options.</returns>
    public ApprovalPolicyOptions Group(string group, params IEnumerable<string> members)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(group);
        ArgumentNullException.ThrowIfNull(members);
        GroupMembers[group] = new HashSet<string>(members, StringComparer.OrdinalIgnoreCase);
        return this;
    }
}

/// <summary>Answers whether a user belongs to a group (an identity provider, a directory). Register one to replace <see cref="ApprovalPolicyOptions.GroupMembers"/>.</summary>
public interface IApproverDirectory
{
    /// <summary>Whether <paramref name="userId"/> is a member of <paramref name="group"/>.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns><see langword="true"/> when a member; <see langword="null"/> when the directory does not know the group (the gate is then inconclusive).</returns>
    ValueTask<bool?> IsMemberAsync(string userId, string group, CancellationToken cancellationToken);
}

/// <summary>
/// Separation of duties: the release needs the number of approvers its change classes require; the author's
/// approval never counts, and approvers must belong to the configured group.
/// </summary>
internal sealed class ApprovalsGate(IOptionsMonitor<ApprovalPolicyOptions> options) : IReleaseGate
{
    public async ValueTask<GateResult> EvaluateAsync(GateContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var policy = options.Get(context.GateName);
        var manifest = context.Manifest;
        var source = manifest.Source;

        var required = policy.MinimumApprovers;
        var requiredBy = "every release";
        foreach (var changeClass in manifest.ChangeClasses)
        {
            var n = policy.RequiredApprovers.TryGetValue(changeClass, out var listed) ? listed : policy.UnlistedChangeClassApprovers;
            if (n > required)
            {
                required = n;
                requiredBy = changeClass;
            }
        }

        var evidence = new List<Evidence> { Evidence.Of("required_approvers", required, source: requiredBy) };
        if (string.IsNullOrWhiteSpace(manifest.Author))
        {
            evidence.Add(new Evidence("author", "(missing)", source: source));
            return GateResult.Inconclusive("The manifest names no author, so separation of duties cannot be checked.", evidence);
        }

        var directory = context.Services.GetService<IApproverDirectory>();
        var counted = new List<string>();
        var unknownGroup = false;
        foreach (var approver in manifest.Approvers)
        {
            if (string.Equals(approver, manifest.Author, StringComparison.OrdinalIgnoreCase))
            {
                evidence.Add(new Evidence("not_counted", approver, "the author cannot approve their own release", source: source));
                continue;
            }

            if (policy.ApproverGroup is { } group)
            {
                bool? member = directory is null
                    ? policy.GroupMembers.TryGetValue(group, out var members) ? members.Contains(approver) : null
                    : await directory.IsMemberAsync(approver, group, cancellationToken).ConfigureAwait(false);
                if (member is null)
                {
                    unknownGroup = true;
                    evidence.Add(new Evidence("not_counted", approver, $"group '{group}' is unknown to the approver directory"));
                    continue;
                }

                if (member == false)
                {
                    evidence.Add(new Evidence("not_counted", approver, $"not a member of '{group}'"));
                    continue;
                }
            }

            counted.Add(approver);
        }

        evidence.Insert(0, new Evidence("approvers", counted.Count == 0 ? "(none)" : string.Join(", ", counted), required.ToString(System.Globalization.CultureInfo.InvariantCulture), source: source));
        if (counted.Count >= required)
        {
            return GateResult.Pass($"{counted.Count} valid approver{(counted.Count == 1 ? string.Empty : "s")}, {required} required ({requiredBy}).", evidence);
        }

        if (unknownGroup)
        {
            return GateResult.Inconclusive($"Approver group '{policy.ApproverGroup}' is unknown, so approvals cannot be counted ({counted.Count} of {required} counted).", evidence);
        }

        return GateResult.Fail($"{counted.Count} valid approver{(counted.Count == 1 ? string.Empty : "s")}, {required} required by {requiredBy}.", evidence);
    }
}

internal sealed class ApprovalPolicyOptionsValidator : IValidateOptions<ApprovalPolicyOptions>
{
    public ValidateOptionsResult Validate(string? name, ApprovalPolicyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var (changeClass, n) in options.RequiredApprovers)
        {
            if (n is < 0 or > 20)
            {
                failures.Add($"Gate '{name}': RequiredApprovers['{changeClass}'] is {n}; allowed is 0 to 20.");
            }
        }

        if (options.UnlistedChangeClassApprovers is < 0 or > 20)
        {
            failures.Add($"Gate '{name}': UnlistedChangeClassApprovers is {options.UnlistedChangeClassApprovers}; allowed is 0 to 20.");
        }

        if (options.MinimumApprovers is < 0 or > 20)
        {
            failures.Add($"Gate '{name}': MinimumApprovers is {options.MinimumApprovers}; allowed is 0 to 20.");
        }

        if (options.ApproverGroup is { } group && string.IsNullOrWhiteSpace(group))
        {
            failures.Add($"Gate '{name}': ApproverGroup is blank; set a group name or leave it null.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
