using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace ProServ.Billing;

/// <summary>A project a tenant bills time on.</summary>
public sealed record Project(long Id, string TenantId, string Name, decimal HourlyRate, string Currency);

/// <summary>An invoice (one per time entry in this sample).</summary>
public sealed record Invoice(long Id, string TenantId, string Number, decimal Amount, string Currency, string Status, string? ApprovedBy, string? ErpDocumentNo, string? ExternalRef);

/// <summary>
/// The billing tables, in plain SQL that SQLite and PostgreSQL both accept. The columns it touches depend on the release
/// this process plays: 2026.11.1 never names erp_document_no, 2027.1.1 never names external_ref.
/// </summary>
public sealed class BillingStore(DbDataSource dataSource, IOptions<ReleaseOptions> release)
{
    private ReleaseProfile Profile => release.Value.Profile;

    /// <summary>Adds two demo projects per tenant when there are none.</summary>
    public async Task SeedAsync(IEnumerable<string> tenantIds, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (Convert.ToInt64(await Scalar(connection, null, "SELECT COUNT(*) FROM projects", cancellationToken), CultureInfo.InvariantCulture) > 0)
        {
            return;
        }

        foreach (var tenant in tenantIds)
        {
            foreach (var (name, rate) in new[] { ("ERP rollout", 14_500L), ("Audit support", 12_000L) })
            {
                await Execute(connection, null, "INSERT INTO projects (tenant_id, name, hourly_rate_cents, currency) VALUES (@t, @n, @r, 'EUR')", cancellationToken, ("@t", tenant), ("@n", name), ("@r", rate));
            }
        }
    }

    /// <summary>The tenant's projects.</summary>
    public async Task<IReadOnlyList<Project>> ListProjectsAsync(string tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null, "SELECT id, tenant_id, name, hourly_rate_cents, currency FROM projects WHERE tenant_id = @t ORDER BY id", ("@t", tenantId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var projects = new List<Project>();
        while (await reader.ReadAsync(cancellationToken))
        {
            projects.Add(new Project(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3) / 100m, reader.GetString(4)));
        }

        return projects;
    }

    /// <summary>Records a time entry and its draft invoice; <see langword="null"/> when the project is not the tenant's.</summary>
    public async Task<Invoice?> AddTimeEntryAsync(string tenantId, long projectId, string consultant, int minutes, DateOnly workDate, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var find = Command(connection, transaction, "SELECT hourly_rate_cents, currency FROM projects WHERE id = @p AND tenant_id = @t", ("@p", projectId), ("@t", tenantId)))
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            var rate = reader.GetInt64(0);
            var currency = reader.GetString(1);
            await reader.DisposeAsync();
            var entryId = Convert.ToInt64(await Scalar(connection, transaction, "INSERT INTO time_entries (tenant_id, project_id, consultant, minutes, work_date) VALUES (@t, @p, @c, @m, @d) RETURNING id", cancellationToken, ("@t", tenantId), ("@p", projectId), ("@c", consultant), ("@m", minutes), ("@d", workDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))), CultureInfo.InvariantCulture);
            var amountCents = rate * minutes / 60;
            var number = string.Create(CultureInfo.InvariantCulture, $"INV-{entryId:D6}");
            var invoiceId = Convert.ToInt64(await Scalar(connection, transaction, "INSERT INTO invoices (tenant_id, number, time_entry_id, amount_cents, currency, status) VALUES (@t, @n, @e, @a, @c, 'draft') RETURNING id", cancellationToken, ("@t", tenantId), ("@n", number), ("@e", entryId), ("@a", amountCents), ("@c", currency)), CultureInfo.InvariantCulture);
            await transaction.CommitAsync(cancellationToken);
            return new Invoice(invoiceId, tenantId, number, amountCents / 100m, currency, "draft", null, null, null);
        }
    }

    /// <summary>The invoice columns a release reads (2026.11.1 knows no erp_document_no; 2027.1.1 no longer reads external_ref).</summary>
    public static string InvoiceColumns(ReleaseProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return "id, tenant_id, number, amount_cents, currency, status, approved_by, "
            + (profile.MaxMigrationVersion >= 202612010001 ? "erp_document_no" : "NULL") + ", "
            + (profile.WritesLegacyReference ? "external_ref" : "NULL");
    }

    /// <summary>Reads one of the tenant's invoices.</summary>
    public async Task<Invoice?> FindInvoiceAsync(string tenantId, long id, CancellationToken cancellationToken)
    {
        var columns = InvoiceColumns(Profile);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null, $"SELECT {columns} FROM invoices WHERE id = @i AND tenant_id = @t", ("@i", id), ("@t", tenantId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        return new Invoice(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3) / 100m, reader.GetString(4), reader.GetString(5), Text(6), Text(7), Text(8));
    }

    /// <summary>Sets an invoice's status (and the approver), only from one of the expected statuses.</summary>
    public async Task<bool> SetStatusAsync(string tenantId, long id, string status, string[] from, string? approvedBy, CancellationToken cancellationToken, DbConnection? connection = null, DbTransaction? transaction = null)
    {
        var owned = connection is null;
        connection ??= await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var fromList = string.Join(", ", from.Select((_, i) => $"@f{i}"));
            var parameters = new List<(string, object?)> { ("@s", status), ("@i", id), ("@t", tenantId), ("@a", approvedBy) };
            parameters.AddRange(from.Select((f, i) => ($"@f{i}", (object?)f)));
            var sql = $"UPDATE invoices SET status = @s, approved_by = COALESCE(@a, approved_by) WHERE id = @i AND tenant_id = @t AND status IN ({fromList})";
            return await Execute(connection, transaction, sql, cancellationToken, [.. parameters]) == 1;
        }
        finally
        {
            if (owned)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>Marks an invoice exported with the ERP's document number (and, while the release still writes it, the legacy reference).</summary>
    public async Task MarkExportedAsync(string tenantId, long id, string? erpDocumentNo, string legacyReference, CancellationToken cancellationToken)
    {
        var sets = new List<string> { "status = 'exported'" };
        if (Profile.MaxMigrationVersion >= 202612010001)
        {
            sets.Add("erp_document_no = @d");
        }

        if (Profile.WritesLegacyReference)
        {
            sets.Add("external_ref = @l");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await Execute(connection, null, $"UPDATE invoices SET {string.Join(", ", sets)} WHERE id = @i AND tenant_id = @t", cancellationToken, ("@d", erpDocumentNo), ("@l", legacyReference), ("@i", id), ("@t", tenantId));
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            if (!sql.Contains(name, StringComparison.Ordinal))
            {
                continue;
            }

            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static async Task<object?> Scalar(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task<int> Execute(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
