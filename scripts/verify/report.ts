/**
 * The result of `npm run verify`: one row per check, printed as a table or as JSON, and the exit code CI reads.
 */

/**
 * - `ok`: checked and as declared.
 * - `fail`: checked and wrong, or a check that had what it needed missing (a credential): counts as a failure.
 * - `unreachable`: no answer within the bound, or no address to ask: counts as a failure.
 * - `warn`: drift that leaves the declared state intact (a topic nobody declared); a failure only with `--strict`.
 * - `skipped`: cannot be checked from here by design (placement without kubectl); never a failure.
 */
export type Status = "ok" | "fail" | "unreachable" | "warn" | "skipped";

export type Area = "stack" | "kafka" | "redis" | "kong" | "akhq";

export interface CheckResult {
    area: Area;
    /** What was checked, stable across runs (CI may key on it). */
    check: string;
    status: Status;
    /** What was seen, or why it could not be seen. Never a secret. */
    detail: string;
}

export interface VerifyReport {
    stack: string;
    /** False when any check failed or was unreachable (or warned, with `strict`). */
    ok: boolean;
    strict: boolean;
    summary: Record<Status, number>;
    checks: CheckResult[];
}

const STATUSES: Status[] = ["ok", "fail", "unreachable", "warn", "skipped"];

export function isFailure(status: Status, strict: boolean): boolean {
    return status === "fail" || status === "unreachable" || (strict && status === "warn");
}

/**
 * Replaces every secret value that reached a detail (an error message quoting a URL with a password, a server
 * echoing a header) by `<redacted>`. Checks never put secrets in details on purpose; this is the last guard.
 */
export function redactSecrets(checks: CheckResult[], secrets: readonly string[]): CheckResult[] {
    const present = secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
    return checks.map((c) => ({ ...c, detail: present.reduce((text, s) => text.split(s).join("<redacted>"), c.detail) }));
}

export function buildReport(stack: string, checks: CheckResult[], strict: boolean): VerifyReport {
    const summary = Object.fromEntries(STATUSES.map((s) => [s, checks.filter((c) => c.status === s).length])) as Record<Status, number>;
    return { stack, ok: !checks.some((c) => isFailure(c.status, strict)), strict, summary, checks };
}

export function exitCode(report: VerifyReport): number {
    return report.ok ? 0 : 1;
}

/** A fixed-width table: area, check, status, detail (details are never cut: they say what to fix). */
export function renderTable(report: VerifyReport): string {
    const header = { area: "AREA", check: "CHECK", status: "STATUS", detail: "DETAIL" };
    const rows = [header, ...report.checks];
    const width = (key: "area" | "check" | "status") => Math.max(...rows.map((r) => r[key].length));
    const [areaWidth, checkWidth, statusWidth] = [width("area"), width("check"), width("status")];
    const line = (r: { area: string; check: string; status: string; detail: string }) =>
        `${r.area.padEnd(areaWidth)}  ${r.check.padEnd(checkWidth)}  ${r.status.padEnd(statusWidth)}  ${r.detail}`.trimEnd();
    const counts = STATUSES.filter((s) => report.summary[s] > 0).map((s) => `${report.summary[s]} ${s}`).join(", ");
    const verdict = report.ok ? "healthy" : "NOT healthy";
    return [
        ...rows.map(line),
        "",
        `stack ${report.stack}: ${verdict} (${report.checks.length} checks: ${counts}${report.strict ? "; --strict: warnings fail" : ""})`,
        "",
    ].join("\n");
}

export function renderJson(report: VerifyReport): string {
    return `${JSON.stringify(report, null, 2)}\n`;
}
