/**
 * npm run bench [-- --quick] [--out DIR]
 * Measures what the stacks cost (footprint from the render, render and validation cost) and writes report.json,
 * report.md and the charts into DIR (default bench/, the committed report). `--quick`: one round and at most 100
 * topics, the same sections and keys (CI's smoke test of the report's shape; its numbers are not for reading, so
 * CI writes it elsewhere with --out).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { buildReport, reportCharts, reportMarkdown, reportProblems, StackFootprintEntry } from "./reporting";
import { budgetFor, checkBudget, stackFootprint } from "./sections/footprint";
import { currentMachine } from "./sections/machine";
import { declaredTopics, measureCommand, RenderRun, renderSection, withTopics } from "./sections/render-cost";
import { versionsSection } from "./sections/versions";

const ROOT = path.resolve(__dirname, "..");
const BENCH_DIR = path.join(ROOT, "bench");

/** Topic counts beyond the dev stack's own, and rounds, per mode. */
const PLANS = {
    full: { topicCounts: [100, 300, 1000], rounds: 5 },
    quick: { topicCounts: [100], rounds: 1 },
};

const USAGE = "usage: npm run bench [-- --quick] [--out DIR]";

function parseArgs(argv: string[]): { quick: boolean; out: string } {
    let quick = false;
    let out = BENCH_DIR;
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--quick") {
            quick = true;
        } else if (argv[i] === "--out" && argv[i + 1] !== undefined) {
            out = path.resolve(argv[++i]);
        } else {
            throw new Error(`${USAGE} (got ${JSON.stringify(argv[i])})`);
        }
    }
    return { quick, out };
}

function log(message: string): void {
    process.stderr.write(`bench: ${message}\n`);
}

interface Rendered {
    manifests: Record<string, any>[];
    helmReleases: { chart: string; name?: unknown; version?: unknown; values: Record<string, any> }[];
}

function readRender(dir: string): Rendered {
    return {
        manifests: yaml.loadAll(fs.readFileSync(path.join(dir, "manifests.yaml"), "utf8")).filter(Boolean) as Record<string, any>[],
        helmReleases: (yaml.load(fs.readFileSync(path.join(dir, "helm-releases.yaml"), "utf8")) ?? []) as Rendered["helmReleases"],
    };
}

function renderArgs(stack: string, configFile: string, out: string): string[] {
    return ["run", "--silent", "render", "--", "--stack", stack, "--config-file", configFile, "--out", out];
}

const TS_NODE = path.join(ROOT, "node_modules", ".bin", "ts-node");

async function main(): Promise<void> {
    const { quick, out: outDir } = parseArgs(process.argv.slice(2));
    const plan = quick ? PLANS.quick : PLANS.full;
    const machine = currentMachine();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "bss-bench-"));
    try {
        const devFile = path.join(ROOT, "Pulumi.dev.yaml");
        const devText = fs.readFileSync(devFile, "utf8");
        const devTopics = declaredTopics(devText);
        const points = [{ topics: devTopics, file: devFile }, ...plan.topicCounts.filter((n) => n > devTopics).map((topics) => {
            const file = path.join(work, `Pulumi.dev-${topics}-topics.yaml`);
            fs.writeFileSync(file, withTopics(devText, topics));
            return { topics, file };
        })];

        const runs: RenderRun[] = [];
        let devRender: string | undefined;
        for (let round = 1; round <= plan.rounds; round++) {
            for (const point of points) {
                const out = path.join(work, `render-${point.topics}-${round}`);
                const render = await measureCommand("npm", renderArgs("dev", point.file, out), ROOT);
                runs.push({ kind: "render", topics: point.topics, round, wallMs: render.wallMs, cpuMs: render.cpuMs, maxRssMiB: render.maxRssMiB });
                if (point.topics === devTopics && devRender === undefined) {
                    devRender = out;
                } else {
                    fs.rmSync(out, { recursive: true, force: true });
                }
                const probe = await measureCommand(TS_NODE, ["--transpile-only", path.join("bench", "settings-probe.ts"), "dev", point.file], ROOT);
                const figures = JSON.parse(probe.stdout.trim().split("\n").pop()!) as { validationMs: number; validationWarmMs: number; validationRssGrowthMiB: number; topics: number };
                if (figures.topics !== point.topics) {
                    throw new Error(`the settings produced ${figures.topics} topics from ${point.file}, expected ${point.topics}`);
                }
                runs.push({
                    kind: "settings", topics: point.topics, round, wallMs: probe.wallMs, cpuMs: probe.cpuMs, maxRssMiB: probe.maxRssMiB,
                    validationMs: Math.round(figures.validationMs * 1000) / 1000,
                    validationWarmMs: Math.round(figures.validationWarmMs * 1000) / 1000,
                    validationRssGrowthMiB: Math.round(figures.validationRssGrowthMiB * 10) / 10,
                });
                log(`round ${round}/${plan.rounds}, ${point.topics} topics: render ${render.wallMs} ms (${render.maxRssMiB} MiB), loadSettings ${figures.validationMs.toFixed(1)} ms cold, ${figures.validationWarmMs.toFixed(1)} ms warm`);
            }
        }

        const stackFiles = fs.readdirSync(ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).sort();
        const footprint: Record<string, StackFootprintEntry> = {};
        const rendered: Record<string, Rendered> = {};
        for (const file of stackFiles) {
            const stack = file.replace(/^Pulumi\.|\.yaml$/g, "");
            let dir = stack === "dev" ? devRender : undefined;
            if (dir === undefined) {
                dir = path.join(work, `footprint-${stack}`);
                await measureCommand("npm", renderArgs(stack, path.join(ROOT, file), dir), ROOT);
            }
            rendered[stack] = readRender(dir);
            const config = ((yaml.load(fs.readFileSync(path.join(ROOT, file), "utf8")) ?? {}) as { config?: Record<string, unknown> }).config ?? {};
            const environment = String(config["bss:environment"] ?? "prod");
            const stackResult = stackFootprint(rendered[stack].manifests, rendered[stack].helmReleases);
            footprint[stack] = { stackFile: file, environment, ...stackResult, budget: checkBudget(stackResult, budgetFor(environment)) };
            log(`footprint ${stack}: ${stackResult.cpuRequestsMillis}m CPU, ${stackResult.memoryRequestsMiB} MiB requested, ${stackResult.nodesNeeded} node(s); ${footprint[stack].budget.fits ? "fits" : "does not fit"} ${footprint[stack].budget.name}`);
        }

        const all = Object.values(rendered);
        const versions = versionsSection(ROOT, all.flatMap((r) => r.manifests), all.flatMap((r) => r.helmReleases).filter((r, i, list) => list.findIndex((o) => o.chart === r.chart && o.version === r.version) === i));
        const report = buildReport({
            generatedAt: new Date(),
            quick,
            machine,
            versions,
            footprint,
            render: renderSection(runs, {
                render: "npm run render -- --stack dev --config-file FILE --out DIR",
                settings: "ts-node --transpile-only bench/settings-probe.ts dev FILE",
            }),
        });
        const problems = reportProblems(JSON.parse(JSON.stringify(report)));
        if (problems.length > 0) {
            throw new Error(`the report does not have its shape:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        }
        fs.mkdirSync(outDir, { recursive: true });
        fs.writeFileSync(path.join(outDir, "report.json"), JSON.stringify(report, null, 2) + "\n");
        fs.writeFileSync(path.join(outDir, "report.md"), reportMarkdown(report));
        for (const [name, svg] of Object.entries(reportCharts(report))) {
            fs.writeFileSync(path.join(outDir, name), svg);
        }
        log(`wrote ${path.relative(process.cwd(), path.join(outDir, "report.json")) || outDir}, report.md and the charts`);
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
