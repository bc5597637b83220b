using System.Reflection;
using ReleaseKit.Gates;
using ReleaseKit.Migrations;

namespace ReleaseKit.Migrations.Tests;

public sealed class LintTests
{
    private static readonly Assembly Samples = typeof(LintTests).Assembly;

    private static MigrationLintReport LintOf(string ns, SqlDialect dialect = SqlDialect.PostgreSql) => MigrationLint.Lint(Samples, dialect, "LintSamples." + ns);

    private static IEnumerable<string> Codes(MigrationLintReport report) => report.Violations.Select(v => v.Code);

    [Theory]
    [InlineData("MissingPhase.Bad", LintRules.MissingPhase)]
    [InlineData("DropColumn.Bad", LintRules.DropColumn)]
    [InlineData("DropTable.Bad", LintRules.DropTable)]
    [InlineData("DeleteAllRows.Bad", LintRules.DeleteAllRows)]
    [InlineData("RenameColumn.Bad", LintRules.RenameColumn)]
    [InlineData("NotNullWithoutDefault.Bad", LintRules.NotNullColumnWithoutDefault)]
    [InlineData("AlterColumn.Bad", LintRules.AlterColumnType)]
    [InlineData("AlterColumn.Bad", LintRules.SetNotNull)]
    [InlineData("UniqueIndex.Bad", LintRules.UniqueIndex)]
    [InlineData("Index.Locking", LintRules.IndexWithoutConcurrently)]
    [InlineData("Index.ConcurrentlyInTransaction", LintRules.ConcurrentlyInTransaction)]
    [InlineData("RawSql.Bad", LintRules.RawSqlWithoutSignOff)]
    [InlineData("Irreversible.Bad", LintRules.IrreversibleDown)]
    [InlineData("BadPhaseData", LintRules.InvalidPhaseData)]
    public void A_migration_that_breaks_a_rule_is_reported_with_its_code(string ns, string code)
    {
        var report = LintOf(ns);

        Assert.False(report.IsClean);
        Assert.Contains(code, Codes(report));
    }

    [Theory]
    [InlineData("MissingPhase.Good")]
    [InlineData("DropColumn.Good")]
    [InlineData("DeleteAllRows.Good")]
    [InlineData("NotNullWithoutDefault.Good")]
    [InlineData("Index.Good")]
    [InlineData("RawSql.Good")]
    [InlineData("Irreversible.Good")]
    public void The_safe_alternative_passes_lint(string ns)
    {
        var report = LintOf(ns);

        Assert.True(report.IsClean, report.ToString());
    }

    [Fact]
    public void A_violation_names_the_version_class_table_column_and_safe_alternative()
    {
        var violation = Assert.Single(LintOf("DropColumn.Bad").Violations);

        Assert.Equal(LintRules.DropColumn, violation.Code);
        Assert.Equal(2, violation.Version);
        Assert.Equal("LintSamples.DropColumn.Bad.DropsColumnInExpand", violation.MigrationClass);
        Assert.Equal("invoice", violation.Table);
        Assert.Equal("total", violation.Column);
        Assert.Contains("Contract", violation.SafeAlternative);
        Assert.Contains("RK-M012 2 LintSamples.DropColumn.Bad.DropsColumnInExpand", violation.ToString());
    }

    [Fact]
    public void Both_irreversible_shapes_are_reported_forward_only_and_unsupported_reverse()
    {
        var report = LintOf("Irreversible.Bad");

        Assert.Equal([14L, 15L], report.Violations.Where(v => v.Code == LintRules.IrreversibleDown).Select(v => v.Version).Order());
    }

    [Fact]
    public void The_PostgreSQL_locking_rules_do_not_apply_on_SQLite()
    {
        Assert.True(LintOf("Index.Locking", SqlDialect.Sqlite).IsClean);
        Assert.True(LintOf("Index.ConcurrentlyInTransaction", SqlDialect.Sqlite).IsClean);
    }

    [Fact]
    public void IfDatabase_branches_are_linted_for_the_chosen_provider()
    {
        Assert.Contains(LintRules.RawSqlWithoutSignOff, Codes(LintOf("PerDialect", SqlDialect.PostgreSql)));
        Assert.True(LintOf("PerDialect", SqlDialect.Sqlite).IsClean);
    }

    [Fact]
    public void A_suppressed_rule_is_not_a_violation_but_the_report_shows_it_with_its_reason()
    {
        var report = LintOf("Suppressed");

        Assert.True(report.IsClean);
        var suppressed = Assert.Single(report.Suppressed);
        Assert.Equal(LintRules.DropTable, suppressed.Code);
        Assert.Contains("created by mistake", suppressed.SuppressionReason);
        Assert.Contains("[suppressed: The table was created by mistake", report.ToString());
    }

    [Fact]
    public void AssertClean_throws_with_every_violation_in_the_message()
    {
        var ex = Assert.Throws<MigrationLintException>(() => MigrationLint.AssertClean(Samples, SqlDialect.PostgreSql, "LintSamples.AlterColumn.Bad"));

        Assert.Contains(LintRules.AlterColumnType + " 7", ex.Message);
        Assert.Contains(LintRules.SetNotNull + " 8", ex.Message);
        Assert.Equal(2, ex.Report!.Violations.Count);
    }

    [Fact]
    public void AssertClean_passes_a_clean_assembly()
    {
        MigrationLint.AssertClean(Samples, SqlDialect.PostgreSql, "LintSamples.DropColumn.Good");
    }

    [Fact]
    public void Duplicate_versions_are_a_clear_error_naming_both_classes()
    {
        var ex = Assert.Throws<MigrationCatalogException>(() => MigrationCatalog.FromAssembly(Samples, "LintSamples.Duplicate"));

        Assert.Contains("20", ex.Message);
        Assert.Contains("LintSamples.Duplicate.First", ex.Message);
        Assert.Contains("LintSamples.Duplicate.Second", ex.Message);
    }

    [Fact]
    public void Discovery_reads_versions_classes_and_phases()
    {
        var catalog = MigrationCatalog.FromAssembly(Samples, "LintSamples.DropColumn.Good");

        Assert.Collection(
            catalog.Migrations,
            m => Assert.Equal((1L, Phase.Expand, (long?)null), (m.Version, m.Phase!.Value, m.Completes)),
            m => Assert.Equal((2L, Phase.Contract, (long?)1), (m.Version, m.Phase!.Value, m.Completes)));
    }
}
