import { buildReport, CheckResult, exitCode, redactSecrets, renderJson, renderTable } from "../../scripts/verify/report";

const rows: CheckResult[] = [
    { area: "kafka", check: "brokers registered", status: "ok", detail: "0, 1, 2" },
    { area: "kafka", check: "undeclared topics", status: "warn", detail: "drift: bss.unplanned" },
    { area: "redis", check: "replica placement", status: "skipped", detail: "placement not checked: kubectl not found" },
];

describe("report", () => {
    it("is healthy with ok, warn and skipped rows, and exits 0", () => {
        const report = buildReport("dev", rows, false);
        expect(report.ok).toBe(true);
        expect(report.summary).toEqual({ ok: 1, fail: 0, unreachable: 0, warn: 1, skipped: 1 });
        expect(exitCode(report)).toBe(0);
    });

    it.each(["fail", "unreachable"] as const)("is not healthy with a %s row, and exits 1", (status) => {
        const report = buildReport("dev", [...rows, { area: "akhq", check: "health", status, detail: "x" }], false);
        expect(report.ok).toBe(false);
        expect(exitCode(report)).toBe(1);
    });

    it("fails on warnings only with strict", () => {
        expect(buildReport("dev", rows, true).ok).toBe(false);
        expect(exitCode(buildReport("dev", rows, true))).toBe(1);
    });

    it("prints one aligned row per check and a verdict", () => {
        const table = renderTable(buildReport("dev", rows, false));
        const lines = table.trimEnd().split("\n");
        expect(lines[0]).toMatch(/^AREA\s+CHECK\s+STATUS\s+DETAIL$/);
        expect(lines.slice(1, 4).map((l) => l.split(/\s{2,}/).slice(0, 3))).toEqual([
            ["kafka", "brokers registered", "ok"],
            ["kafka", "undeclared topics", "warn"],
            ["redis", "replica placement", "skipped"],
        ]);
        // Every row's STATUS starts in the same column.
        expect(new Set(lines.slice(0, 4).map((l) => l.search(/(STATUS|ok|warn|skipped)\s/))).size).toBe(1);
        expect(lines[lines.length - 1]).toBe("stack dev: healthy (3 checks: 1 ok, 1 warn, 1 skipped)");
    });

    it("prints JSON that CI can parse back", () => {
        const report = buildReport("prod", rows, false);
        expect(JSON.parse(renderJson(report))).toEqual(report);
    });

    it("redacts every secret value that reached a detail, longest first", () => {
        const leaked: CheckResult[] = [{ area: "kong", check: "x", status: "fail", detail: "sent key abc123abc123 and abc123" }];
        expect(redactSecrets(leaked, ["abc123", "abc123abc123", ""])[0].detail).toBe("sent key <redacted> and <redacted>");
    });
});
