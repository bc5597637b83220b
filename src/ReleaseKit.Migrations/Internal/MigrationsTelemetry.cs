using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ReleaseKit.Migrations.Internal;

/// <summary>The package's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <c>ReleaseKit.Migrations</c>.</summary>
internal static class MigrationsTelemetry
{
    public const string Name = "ReleaseKit.Migrations";

    public static readonly string Version = typeof(MigrationsTelemetry).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    public static readonly ActivitySource ActivitySource = new(Name, Version);

    public static readonly Meter Meter = new(Name, Version);

    public static readonly Counter<long> Applied = Meter.CreateCounter<long>(
        "releasekit.migrations.applied", unit: "{migration}", description: "Migrations applied by the fleet migrator, by phase.");

    public static readonly Counter<long> BackfillRows = Meter.CreateCounter<long>(
        "releasekit.migrations.backfill.rows", unit: "{row}", description: "Rows changed by committed backfill batches, by backfill.");
}

/// <summary>Tag names of the package's telemetry.</summary>
internal static class MigrationsTelemetryTags
{
    public const string Phase = "releasekit.migration.phase";

    public const string Backfill = "releasekit.migration.backfill";
}
