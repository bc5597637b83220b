using ReleaseKit.Gates;
using ReleaseKit.TenantContext.Internal;

namespace ReleaseKit.TenantContext;

/// <summary>The isolation guard: data access calls it with each row's tenant id, and it fails loudly when the row belongs to another tenant.</summary>
public static class TenantIsolation
{
    /// <summary>Ensures a row belongs to the ambient tenant.</summary>
    /// <param name="rowTenantId">The tenant id stored on the row.</param>
    /// <exception cref="TenantIsolationException">No tenant is ambient, or the row belongs to another tenant; the message names both.</exception>
    public static void EnsureSameTenant(string? rowTenantId)
    {
        var ambient = AmbientTenant.TenantId;
        if (ambient is null || !string.Equals(ambient, rowTenantId, StringComparison.OrdinalIgnoreCase))
        {
            if (TenantTelemetry.IsolationViolations.Enabled)
            {
                TenantTelemetry.IsolationViolations.Add(1, new KeyValuePair<string, object?>(TelemetryTags.TenantId, ambient ?? "(none)"));
            }

            throw new TenantIsolationException(ambient, rowTenantId);
        }
    }
}

/// <summary>Thrown by <see cref="TenantIsolation.EnsureSameTenant(string?)"/> when code touches another tenant's data.</summary>
public sealed class TenantIsolationException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public TenantIsolationException()
        : base("A row of another tenant was accessed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public TenantIsolationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TenantIsolationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for an ambient tenant and a row's tenant.</summary>
    /// <param name="ambientTenantId">The ambient tenant (<see langword="null"/> when none was set).</param>
    /// <param name="rowTenantId">The row's tenant.</param>
    public TenantIsolationException(string? ambientTenantId, string? rowTenantId)
        : base(ambientTenantId is null
            ? $"A row of tenant '{rowTenantId ?? "(none)"}' was accessed with no ambient tenant; begin a tenant scope before touching tenant data."
            : $"Tenant isolation violated: the ambient tenant is '{ambientTenantId}' but the row belongs to tenant '{rowTenantId ?? "(none)"}'.")
    {
        AmbientTenantId = ambientTenantId;
        RowTenantId = rowTenantId;
    }

    /// <summary>Gets the ambient tenant id, or <see langword="null"/> when none was set.</summary>
    public string? AmbientTenantId { get; }

    /// <summary>Gets the row's tenant id.</summary>
    public string? RowTenantId { get; }
}
