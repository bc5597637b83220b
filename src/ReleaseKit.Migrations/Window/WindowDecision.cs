namespace ReleaseKit.Migrations;

/// <summary>A decision of the compatibility window, naming the migration and instances that decide it.</summary>
public sealed class WindowDecision
{
    private WindowDecision(bool allowed, string reason, long? migration, IReadOnlyList<string> blockingInstances)
    {
        IsAllowed = allowed;
        Reason = reason;
        DecidingMigration = migration;
        BlockingInstances = blockingInstances;
    }

    /// <summary>Whether the step is allowed.</summary>
    public bool IsAllowed { get; }

    /// <summary>Why, in a sentence that names the migration and instances.</summary>
    public string Reason { get; }

    /// <summary>The migration that decides (the first one that blocks, or the one being applied).</summary>
    public long? DecidingMigration { get; }

    /// <summary>The live instances that block the step (empty when allowed).</summary>
    public IReadOnlyList<string> BlockingInstances { get; }

    internal static WindowDecision Allow(string reason, long? migration = null) => new(true, reason, migration, []);

    internal static WindowDecision Deny(string reason, long? migration, IReadOnlyList<string>? instances = null) => new(false, reason, migration, instances ?? []);

    /// <inheritdoc />
    public override string ToString() => (IsAllowed ? "allowed: " : "denied: ") + Reason;
}
