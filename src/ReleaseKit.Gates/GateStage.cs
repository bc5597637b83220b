namespace ReleaseKit.Gates;

/// <summary>When in a release a gate runs.</summary>
public enum GateStage
{
    /// <summary>When an instance of the service starts (for example: is this build inside the schema compatibility window?).</summary>
    Startup = 0,

    /// <summary>Before a release is promoted to the next environment (staging to production).</summary>
    Promotion = 1,

    /// <summary>After a deploy, while the release is judged on its health.</summary>
    PostDeploy = 2,
}

/// <summary>How a gate's failure affects the release.</summary>
public enum GateSeverity
{
    /// <summary>A failure blocks the release.</summary>
    Blocking = 0,

    /// <summary>A failure is reported as <see cref="Verdict.Warn"/> and does not block.</summary>
    Advisory = 1,
}
