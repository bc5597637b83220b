using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ReleaseKit.Gates;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the manifest completeness and approvals gates.</summary>
public static class ManifestGateBuilderExtensions
{
    /// <summary>Adds the manifest completeness gate (stage Promotion): version, commit, artifact digest, migration ids and rollback instructions present and well-formed.</summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="configure">Configures what is required.</param>
    /// <param name="name">The gate's name.</param>
    /// <param name="registration">Configures the registration (stages, tags, severity...).</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddManifestCompletenessGate(this IReleaseGatesBuilder builder, Action<ManifestCompletenessOptions>? configure = null, string name = "manifest-completeness", Action<ReleaseGateRegistration>? registration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<ManifestCompletenessOptions>(name).Configure(configure ?? (static _ => { })).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ManifestCompletenessOptions>, ManifestCompletenessOptionsValidator>());
        return builder.AddGate<ManifestCompletenessGate>(name, r => { r.WithTags("manifest"); registration?.Invoke(r); });
    }

    /// <summary>Adds the approvals gate (stage Promotion): the number of approvers the change classes require, never counting the author, approvers in the configured group.</summary>
    /// <param name="builder">The gates builder.</param>
    /// <param name="configure">Configures the approval policy.</param>
    /// <param name="name">The gate's name.</param>
    /// <param name="registration">Configures the registration (stages, tags, severity...).</param>
    /// <returns>The gates builder.</returns>
    public static IReleaseGatesBuilder AddApprovalsGate(this IReleaseGatesBuilder builder, Action<ApprovalPolicyOptions> configure, string name = "approvals", Action<ReleaseGateRegistration>? registration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<ApprovalPolicyOptions>(name).Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ApprovalPolicyOptions>, ApprovalPolicyOptionsValidator>());
        return builder.AddGate<ApprovalsGate>(name, r => { r.WithTags("approvals"); registration?.Invoke(r); });
    }
}
