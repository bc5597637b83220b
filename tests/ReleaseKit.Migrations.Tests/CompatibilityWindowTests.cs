using FsCheck.Xunit;
using ReleaseKit.Migrations;

namespace ReleaseKit.Migrations.Tests;

public sealed class CompatibilityWindowTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 15, 9, 0, 0, TimeSpan.Zero);

    // Release 1 knows the Expand (1); release 2 adds the Backfill (2); release 3 adds the Contract (3).
    private static readonly BuildSnapshot Older = new("1.0", [1]);
    private static readonly BuildSnapshot Current = new("2.0", [1, 2]);
    private static readonly BuildSnapshot Newer = new("3.0", [1, 2, 3]);

    private static readonly AppliedMigration Expand = new(1, Phase.Expand);
    private static readonly AppliedMigration Backfill = new(2, Phase.Backfill);
    private static readonly AppliedMigration Contract = new(3, Phase.Contract);

    private static FleetInstance Instance(string id, BuildSnapshot build) => new(id, build.Version, build.KnownMigrations, "host-" + id, Now, Now);

    [Fact]
    public void An_older_build_runs_against_a_database_with_unknown_expand_and_backfill()
    {
        Assert.True(CompatibilityWindow.CanRunAgainst(Older, [Expand, Backfill]).IsAllowed);
    }

    [Fact]
    public void A_build_that_does_not_know_an_applied_contract_cannot_run_and_the_decision_names_it()
    {
        var decision = CompatibilityWindow.CanRunAgainst(Current, [Expand, Backfill, Contract]);

        Assert.False(decision.IsAllowed);
        Assert.Equal(3, decision.DecidingMigration);
        Assert.Contains("3", decision.Reason);
        Assert.True(CompatibilityWindow.CanRunAgainst(Newer, [Expand, Backfill, Contract]).IsAllowed);
    }

    [Fact]
    public void An_applied_migration_with_unknown_phase_counts_as_a_contract()
    {
        var decision = CompatibilityWindow.CanRunAgainst(Older, [new AppliedMigration(9, null)]);

        Assert.False(decision.IsAllowed);
        Assert.Equal(9, decision.DecidingMigration);
    }

    [Fact]
    public void Contract_is_blocked_while_an_instance_runs_a_build_that_does_not_know_it_and_names_the_instance()
    {
        var decision = CompatibilityWindow.CanApply(3, Phase.Contract, [Instance("a", Newer), Instance("b", Current)]);

        Assert.False(decision.IsAllowed);
        Assert.Equal(["b"], decision.BlockingInstances);
        Assert.Contains("b (build 2.0)", decision.Reason);
    }

    [Fact]
    public void Contract_is_allowed_when_every_live_instance_knows_it()
    {
        Assert.True(CompatibilityWindow.CanApply(3, Phase.Contract, [Instance("a", Newer), Instance("c", Newer)]).IsAllowed);
    }

    [Fact]
    public void Expand_is_allowed_whatever_builds_are_live()
    {
        Assert.True(CompatibilityWindow.CanApply(1, Phase.Expand, [Instance("a", new BuildSnapshot("0.9", []))]).IsAllowed);
    }

    [Fact]
    public void Rollback_is_allowed_until_a_contract_unknown_to_the_older_build_is_applied()
    {
        Assert.True(CompatibilityWindow.CanRollBackTo(Current, [Expand, Backfill]).IsAllowed);

        var decision = CompatibilityWindow.CanRollBackTo(Current, [Expand, Backfill, Contract]);
        Assert.False(decision.IsAllowed);
        Assert.Equal(3, decision.DecidingMigration);
    }

    [Fact]
    public void The_digest_depends_on_the_set_not_its_order()
    {
        Assert.Equal(new BuildSnapshot("a", [3, 1, 2]).Digest, new BuildSnapshot("b", [1, 2, 3]).Digest);
        Assert.NotEqual(new BuildSnapshot("a", [1, 2]).Digest, new BuildSnapshot("a", [1, 2, 3]).Digest);
    }

    // Builds are prefixes of one migration history (build k knows migrations 1..k). Steps: start an instance of a build
    // (also a rollback), stop an instance, apply a migration. Every step the window allows keeps every live build compatible.
    [Property(MaxTest = 500)]
    public bool No_allowed_step_leaves_a_live_build_incompatible_with_the_schema(byte[] phases, byte[] kinds, byte[] arguments)
    {
        var count = Math.Clamp(phases.Length, 1, 12);
        var phaseOf = Enumerable.Range(0, count).ToDictionary(i => (long)(i + 1), i => (Phase)(phases.Length == 0 ? 0 : phases[i] % 3));
        var builds = Enumerable.Range(0, count + 1).Select(k => new BuildSnapshot($"b{k}", Enumerable.Range(1, k).Select(v => (long)v))).ToArray();
        var applied = new Dictionary<long, AppliedMigration>();
        var live = new List<FleetInstance>();
        var steps = Math.Min(kinds.Length, arguments.Length);
        for (var step = 0; step < steps; step++)
        {
            var argument = arguments[step];
            switch (kinds[step] % 3)
            {
                case 0:
                    var build = builds[argument % builds.Length];
                    if (CompatibilityWindow.CanRunAgainst(build, applied.Values).IsAllowed)
                    {
                        live.Add(Instance($"i{step}", build));
                    }

                    break;
                case 1:
                    if (live.Count > 0)
                    {
                        live.RemoveAt(argument % live.Count);
                    }

                    break;
                default:
                    var version = (long)(argument % count) + 1;
                    if (!applied.ContainsKey(version) && CompatibilityWindow.CanApply(version, phaseOf[version], live).IsAllowed)
                    {
                        applied[version] = new AppliedMigration(version, phaseOf[version]);
                    }

                    break;
            }

            if (live.Any(i => !CompatibilityWindow.CanRunAgainst(new BuildSnapshot(i.BuildVersion, i.KnownMigrations), applied.Values).IsAllowed))
            {
                return false;
            }
        }

        return true;
    }
}
