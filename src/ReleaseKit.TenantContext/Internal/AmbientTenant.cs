namespace ReleaseKit.TenantContext.Internal;

/// <summary>The one <see cref="AsyncLocal{T}"/> that holds the ambient tenant id. It stores the id itself (no holder object), so a read is one AsyncLocal read.</summary>
internal static class AmbientTenant
{
    private static readonly AsyncLocal<string?> Current = new();

    public static string? TenantId
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get => Current.Value;
        set => Current.Value = value;
    }
}
