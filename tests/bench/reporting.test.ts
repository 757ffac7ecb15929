import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildReport, NOT_MEASURED_YET, Report, REQUIRED_KEYS, reportCharts, reportMarkdown, reportProblems } from "../../bench/reporting";
import { checkBudget, LAPTOP_KIND_NODE, stackFootprint, THREE_NODES } from "../../bench/sections/footprint";
import { machineSection } from "../../bench/sections/machine";
import { RenderRun, renderSection } from "../../bench/sections/render-cost";
import { ROOT } from "../helpers/render";
import { SYNTHETIC_HELM_RELEASES, SYNTHETIC_MANIFESTS } from "./fixtures";
import { xmlProblems } from "./xml";

function syntheticReport(): Report {
    const footprint = stackFootprint(SYNTHETIC_MANIFESTS, SYNTHETIC_HELM_RELEASES);
    const runs: RenderRun[] = [10, 100].flatMap((topics) => [
        { kind: "render" as const, topics, round: 1, wallMs: 5000 + topics, cpuMs: 4000 + topics, maxRssMiB: 200 },
        { kind: "settings" as const, topics, round: 1, wallMs: 3000, cpuMs: 2000, maxRssMiB: 150, validationMs: 10 + topics / 10, validationWarmMs: 1 + topics / 100 },
    ]);
    return buildReport({
        generatedAt: new Date("2026-12-01T12:00:00Z"),
        quick: true,
        machine: machineSection({ cpus: [{ model: "CPU" }, { model: "CPU" }], totalmem: 8 * 1024 ** 3, loadavg: [1, 1, 1], platform: "linux", release: "6" }),
        versions: { node: "v20.0.0", kafka: "3.9.2", redis: "7.2.16", kubernetes: "v1.34.4", charts: { kong: "3.4.1" }, images: ["kong:3.9.3"], sources: {} },
        footprint: {
            dev: { stackFile: "Pulumi.dev.yaml", environment: "dev", ...footprint, budget: checkBudget(footprint, LAPTOP_KIND_NODE) },
            prod: { stackFile: "Pulumi.prod.yaml", environment: "prod", ...footprint, budget: checkBudget(footprint, THREE_NODES) },
        },
        render: renderSection(runs, { render: "npm run render", settings: "probe" }),
    });
}

/** The report as bench:check reads it: JSON text parsed back. */
function asJson(report: unknown): any {
    return JSON.parse(JSON.stringify(report));
}

describe("the report built from synthetic inputs", () => {
    const report = asJson(syntheticReport());

    it("has every key the issue names for the sections built so far, and passes its own shape check", () => {
        for (const key of REQUIRED_KEYS.top) {
            expect(report).toHaveProperty([key]);
        }
        for (const key of REQUIRED_KEYS.machine) {
            expect(report.machine).toHaveProperty([key]);
        }
        for (const key of REQUIRED_KEYS.versions) {
            expect(report.versions).toHaveProperty([key]);
        }
        for (const stack of ["dev", "prod"]) {
            for (const key of ["cpuRequestsMillis", "memoryRequestsMiB", "cpuLimitsMillis", "memoryLimitsMiB", "nodesNeeded"]) {
                expect(typeof report.footprint[stack][key]).toBe("number");
            }
        }
        expect(report.render.runs.length).toBe(4);
        expect(report.render.render.medians.length).toBe(2);
        expect(reportProblems(report)).toEqual([]);
    });

    it("leaves the sections not built yet out (not null, not zero) and lists them", () => {
        for (const { section } of NOT_MEASURED_YET) {
            expect(report).not.toHaveProperty([section]);
        }
        expect(report.notMeasuredYet.map((s: any) => s.section)).toEqual(["timeToReady", "kafka", "redis", "disruption"]);
    });

    it("says in the Markdown which sections are not measured yet, and links the charts", () => {
        const markdown = reportMarkdown(syntheticReport());
        const notYet = markdown.slice(markdown.indexOf("## Not measured yet"));
        for (const { section } of NOT_MEASURED_YET) {
            expect(notYet).toContain(`\`${section}\``);
        }
        for (const chart of Object.keys(reportCharts(syntheticReport()))) {
            expect(markdown).toContain(`(${chart})`);
        }
        expect(markdown).toContain("one noisy shared machine");
        expect(markdown).toMatch(/does not fit/);
    });

    it("draws a well-formed footprint chart per stack with one segment per component, and the cost charts", () => {
        const charts = reportCharts(syntheticReport());
        expect(Object.keys(charts).sort()).toEqual(["footprint-dev.svg", "footprint-prod.svg", "render-cost.svg", "settings-cost.svg"]);
        for (const svg of Object.values(charts)) {
            expect(xmlProblems(svg)).toEqual([]);
        }
        const memoryBar = charts["footprint-dev.svg"].split('<g class="bar"')[2];
        expect((memoryBar.match(/class="segment"/g) ?? []).length).toBe(report.footprint.dev.components.length);
    });
});

describe("reportProblems", () => {
    const broken = (change: (r: any) => void) => {
        const report = asJson(syntheticReport());
        change(report);
        return reportProblems(report);
    };

    it("names a missing footprint key", () => {
        expect(broken((r) => delete r.footprint.prod.nodesNeeded)).toEqual(["footprint.prod.nodesNeeded is missing"]);
    });

    it("refuses a zero where a figure belongs", () => {
        expect(broken((r) => (r.footprint.dev.memoryRequestsMiB = 0))).toEqual(["footprint.dev.memoryRequestsMiB must be a positive number, got 0"]);
    });

    it("refuses a not-yet-built section written as null, and one neither present nor listed", () => {
        expect(broken((r) => (r.kafka = null))).toEqual(["kafka is listed as not measured yet but is present", "kafka must be absent until it is measured, got null"]);
        expect(broken((r) => (r.notMeasuredYet = r.notMeasuredYet.filter((s: any) => s.section !== "redis")))).toEqual(["redis is absent and not listed in notMeasuredYet"]);
    });

    it("wants the raw runs of both kinds kept beside the medians", () => {
        expect(broken((r) => (r.render.runs = r.render.runs.filter((run: any) => run.kind === "render")))).toEqual(["render.runs must keep the raw runs of both kinds (render and settings)"]);
        expect(broken((r) => (r.render.render.medians = r.render.render.medians.slice(0, 1)))).toEqual(["render.render.medians must hold at least two topic counts, each with topics, wallMs and maxRssMiB"]);
    });

    it("says what is wrong with something that is not a report at all", () => {
        expect(reportProblems([])[0]).toMatch(/report must be an object/);
    });
});

describe("npm run bench:check (bench/check.ts)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-check-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const check = (report: unknown) => {
        const file = path.join(dir, "report.json");
        fs.writeFileSync(file, JSON.stringify(report));
        return spawnSync(path.join(ROOT, "node_modules", ".bin", "ts-node"), ["--transpile-only", path.join(ROOT, "bench", "check.ts"), file], { cwd: ROOT, encoding: "utf8" });
    };

    it("passes a report of the right shape and fails a broken one, listing the problem", () => {
        const good = check(asJson(syntheticReport()));
        expect(good.stderr).toBe("");
        expect(good.status).toBe(0);
        const report = asJson(syntheticReport());
        delete report.machine.cores;
        const bad = check(report);
        expect(bad.status).toBe(1);
        expect(bad.stderr).toContain("machine.cores is missing");
    }, 60_000);
});
