namespace ReleaseKit.Migrations;

/// <summary>The phase of an expand/backfill/contract schema change.</summary>
public enum Phase
{
    /// <summary>Additive: builds that do not know the migration keep working against the new schema.</summary>
    Expand = 0,

    /// <summary>Data only: copies or fills data; builds that do not know it keep working.</summary>
    Backfill = 1,

    /// <summary>Removes or changes what older builds read or write; may run only when no live build needs the old shape.</summary>
    Contract = 2,
}
