using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace ReleaseKit.Gates.Tests;

public sealed class BuiltinManifestGatesTests
{
    private static ReleaseManifest Complete() => ReleaseManifestReader.Parse(ManifestReaderTests.Valid);

    private static async Task<GateEntry> RunAsync(Action<IReleaseGatesBuilder> configure, ReleaseManifest manifest, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        configure(collection.AddReleaseKit().AddGates());
        services?.Invoke(collection);
        await using var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        var runner = provider.GetRequiredService<IReleaseGateRunner>();
        var report = await runner.RunAsync(new GateRunRequest { Manifest = manifest, EnvironmentName = "production" }, TestContext.Current.CancellationToken);
        return Assert.Single(report.Entries);
    }

    [Fact]
    public async Task A_complete_manifest_passes_completeness()
    {
        var entry = await RunAsync(g => g.AddManifestCompletenessGate(), Complete());

        Assert.Equal(Verdict.Pass, entry.Verdict);
    }

    [Fact]
    public async Task Missing_and_malformed_fields_each_fail_completeness_with_evidence()
    {
        var manifest = new ReleaseManifest
        {
            ReleaseId = "r1",
            Version = "1.0",
            Commit = "abc123",
            ArtifactDigest = "sha256:1234",
            ChangeClasses = [ChangeClasses.SchemaMigration],
            RollbackInstructions = "see runbook",
        };

        var entry = await RunAsync(g => g.AddManifestCompletenessGate(), manifest);

        Assert.Equal(Verdict.Fail, entry.Verdict);
        var fields = entry.Result.Evidence.Select(e => e.Name).ToHashSet();
        Assert.Equal(new HashSet<string> { "commit", "artifactDigest", "migrations", "rollbackInstructions" }, fields);
        Assert.Contains("commit", entry.Result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrations_without_the_schema_migration_class_fail_completeness()
    {
        var manifest = Complete();
        manifest = new ReleaseManifest
        {
            ReleaseId = manifest.ReleaseId,
            Version = manifest.Version,
            Commit = manifest.Commit,
            ArtifactDigest = manifest.ArtifactDigest,
            RollbackInstructions = manifest.RollbackInstructions,
            ChangeClasses = [ChangeClasses.BillingLogic],
            Migrations = ["202611270001"],
        };

        var entry = await RunAsync(g => g.AddManifestCompletenessGate(), manifest);

        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Contains(entry.Result.Evidence, e => e.Name == "changeClasses" && e.Threshold!.Contains("SchemaMigration", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Approvals_pass_when_enough_group_members_other_than_the_author_approve()
    {
        var entry = await RunAsync(
            g => g.AddApprovalsGate(p => p.Require(ChangeClasses.BillingLogic, 2).Group("release-managers", "bob", "carol")),
            Complete());

        Assert.Equal(Verdict.Pass, entry.Verdict);
    }

    [Fact]
    public async Task The_authors_own_approval_never_counts()
    {
        var manifest = new ReleaseManifest { ReleaseId = "r", Version = "1", Author = "alice", Approvers = ["alice", "bob"], ChangeClasses = [ChangeClasses.BillingLogic] };

        var entry = await RunAsync(g => g.AddApprovalsGate(p => p.Require(ChangeClasses.BillingLogic, 2)), manifest);

        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Contains(entry.Result.Evidence, e => e.Name == "not_counted" && e.Observed == "alice" && e.Threshold!.Contains("author", StringComparison.Ordinal));
        Assert.Contains("1 valid approver, 2 required by BillingLogic", entry.Result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Approvers_outside_the_group_do_not_count()
    {
        var manifest = new ReleaseManifest { ReleaseId = "r", Version = "1", Author = "alice", Approvers = ["bob", "mallory"], ChangeClasses = [ChangeClasses.IdentityModel] };

        var entry = await RunAsync(g => g.AddApprovalsGate(p => { p.Require(ChangeClasses.IdentityModel, 2); p.ApproverGroup = "security"; p.Group("security", "bob"); }), manifest);

        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Contains(entry.Result.Evidence, e => e.Name == "not_counted" && e.Observed == "mallory");
    }

    [Fact]
    public async Task An_unknown_approver_group_is_inconclusive_not_pass()
    {
        var manifest = new ReleaseManifest { ReleaseId = "r", Version = "1", Author = "alice", Approvers = ["bob"], ChangeClasses = [ChangeClasses.Configuration] };

        var entry = await RunAsync(g => g.AddApprovalsGate(p => p.ApproverGroup = "nobody-defined-this"), manifest);

        Assert.Equal(Verdict.Inconclusive, entry.Verdict);
    }

    [Fact]
    public async Task A_registered_approver_directory_is_asked_for_group_membership()
    {
        var manifest = new ReleaseManifest { ReleaseId = "r", Version = "1", Author = "alice", Approvers = ["bob"], ChangeClasses = [ChangeClasses.Configuration] };

        var entry = await RunAsync(
            g => g.AddApprovalsGate(p => p.ApproverGroup = "ops"),
            manifest,
            s => s.AddSingleton<IApproverDirectory>(new Directory(("bob", "ops"))));

        Assert.Equal(Verdict.Pass, entry.Verdict);
    }

    [Fact]
    public async Task Unlisted_change_classes_need_the_default_number_of_approvers()
    {
        var manifest = new ReleaseManifest { ReleaseId = "r", Version = "1", Author = "alice", Approvers = ["bob"], ChangeClasses = ["PayrollExport"] };

        var entry = await RunAsync(g => g.AddApprovalsGate(p => p.UnlistedChangeClassApprovers = 2), manifest);

        Assert.Equal(Verdict.Fail, entry.Verdict);
        Assert.Contains("PayrollExport", entry.Result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_without_an_author_is_inconclusive()
    {
        var manifest = new ReleaseManifest { ReleaseId = "r", Version = "1", Approvers = ["bob"] };

        var entry = await RunAsync(g => g.AddApprovalsGate(_ => { }), manifest);

        Assert.Equal(Verdict.Inconclusive, entry.Verdict);
    }

    [Fact]
    public void Invalid_approval_policy_fails_at_startup_naming_the_option()
    {
        var services = new ServiceCollection();
        services.AddReleaseKit().AddGates().AddApprovalsGate(p => p.Require(ChangeClasses.BillingLogic, -1));
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<ApprovalPolicyOptions>>().Get("approvals"));
        Assert.Contains("RequiredApprovers['BillingLogic'] is -1", ex.Message, StringComparison.Ordinal);
    }

    private sealed class Directory(params (string User, string Group)[] memberships) : IApproverDirectory
    {
        public ValueTask<bool?> IsMemberAsync(string userId, string group, CancellationToken cancellationToken) =>
            ValueTask.FromResult<bool?>(memberships.Any(m => m.User == userId) || memberships.Any(m => m.Group == group) ? memberships.Contains((userId, group)) : null);
    }
}
