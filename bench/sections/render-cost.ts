/**
 * Render cost: wall time, CPU time and peak memory of `npm run render` and of the settings validation alone, for
 * the dev stack and for copies of it declaring more topics. The builders are pure; `measureCommand` runs one child.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { TOPIC_CATALOG } from "../../components/topics/catalog";
import { LinearFit, linearFit, linearVerdict, median, round } from "../stats";

/** Prefix of the topics the bench adds; legal Kafka names that no catalog topic uses. */
export const GENERATED_TOPIC_PREFIX = "bench.generated.t";

/** How many topics a stack file declares: the catalog's plus the `bss:topics` overrides with new names. */
export function declaredTopics(stackText: string): number {
    const doc = (yaml.load(stackText) ?? {}) as { config?: Record<string, any> };
    const overrides = Object.keys(doc.config?.["bss:topics"] ?? {});
    const catalog = new Set(TOPIC_CATALOG.map((t) => t.name));
    return catalog.size + overrides.filter((name) => !catalog.has(name)).length;
}

/**
 * The stack file with topics added under `bss:topics` (each with the settings' defaults: 3 partitions, RF 3 capped
 * at the broker count, 7 days) until the stack declares `totalTopics` in all.
 */
export function withTopics(stackText: string, totalTopics: number): string {
    const already = declaredTopics(stackText);
    if (totalTopics < already) {
        throw new Error(`the stack already declares ${already} topics, cannot render it with ${totalTopics}`);
    }
    const doc = (yaml.load(stackText) ?? {}) as { config?: Record<string, any> };
    const config = { ...(doc.config ?? {}) };
    const topics: Record<string, unknown> = { ...(config["bss:topics"] ?? {}) };
    for (let i = 0; i < totalTopics - already; i++) {
        topics[`${GENERATED_TOPIC_PREFIX}${String(i).padStart(5, "0")}`] = {};
    }
    config["bss:topics"] = topics;
    return yaml.dump({ ...doc, config }, { lineWidth: 120, noRefs: true });
}

/** One child process measured by GNU time. */
export interface Measurement {
    wallMs: number;
    /** User plus system CPU time. */
    cpuMs: number;
    /** Peak resident set size of the largest process in the child's tree (GNU time's %M). */
    maxRssMiB: number;
}

/** The last line of `/usr/bin/time -f "%e %U %S %M"` output (elapsed s, user s, system s, max RSS KiB). */
export function parseTimeOutput(text: string): Measurement {
    const line = text.trim().split("\n").pop() ?? "";
    const fields = line.trim().split(/\s+/).map(Number);
    if (fields.length !== 4 || fields.some((f) => !Number.isFinite(f))) {
        throw new Error(`unexpected GNU time output: ${JSON.stringify(text)}`);
    }
    const [elapsed, user, system, rssKiB] = fields;
    return { wallMs: round(elapsed * 1000, 0), cpuMs: round((user + system) * 1000, 0), maxRssMiB: round(rssKiB / 1024, 1) };
}

export const GNU_TIME = "/usr/bin/time";

/** Runs `command args` under GNU time; resolves with its figures and stdout, rejects with its stderr if it fails. */
export function measureCommand(command: string, args: string[], cwd: string): Promise<Measurement & { stdout: string }> {
    if (!fs.existsSync(GNU_TIME)) {
        throw new Error(`the bench measures peak memory with GNU time at ${GNU_TIME} (Debian package "time"): not found`);
    }
    const timeFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-time-")), "time.txt");
    return new Promise((resolve, reject) => {
        const child = spawn(GNU_TIME, ["-f", "%e %U %S %M", "-o", timeFile, command, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => {
            const timeText = fs.existsSync(timeFile) ? fs.readFileSync(timeFile, "utf8") : "";
            fs.rmSync(path.dirname(timeFile), { recursive: true, force: true });
            if (code !== 0) {
                reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${stderr.slice(-2000)}`));
                return;
            }
            resolve({ ...parseTimeOutput(timeText), stdout });
        });
    });
}

/** One measured run, as kept in the report. */
export interface RenderRun extends Measurement {
    /** `render`: the whole `npm run render`; `settings`: a process that only reads and validates the stack config. */
    kind: "render" | "settings";
    topics: number;
    /** Round number, from 1: each round measures every topic count once, so load drift hits every point alike. */
    round: number;
    /** Settings runs: time spent in loadSettings itself, first call in a fresh process (cold, as the render pays it). */
    validationMs?: number;
    /** Settings runs: median of five further loadSettings calls in the same process (compiled and warm). */
    validationWarmMs?: number;
    /** Settings runs: RSS growth across loadSettings. */
    validationRssGrowthMiB?: number;
}

export interface PointMedians {
    topics: number;
    runs: number;
    wallMs: number;
    cpuMs: number;
    maxRssMiB: number;
    validationMs?: number;
    validationWarmMs?: number;
}

export interface FitSummary extends LinearFit {
    /** What y is, with its unit. */
    of: string;
    /** Max - min of the runs behind each median: the noise a residual is compared with. */
    spreads: number[];
    verdict: ReturnType<typeof linearVerdict>;
}

export interface CostSeries {
    medians: PointMedians[];
    /** Straight lines through the medians against the topic count; `perTopic` is their slope. */
    fits: FitSummary[];
    perTopic: { wallMs: number; cpuMs: number; maxRssMiB: number; validationMs?: number; validationWarmMs?: number };
    /** Slope between each pair of neighbouring topic counts (wall ms per topic): equal when growth is linear. */
    segmentWallMsPerTopic: { from: number; to: number; msPerTopic: number }[];
}

export interface RenderSection {
    command: string;
    settingsCommand: string;
    topicCounts: number[];
    rounds: number;
    /** The dev stack as committed (its catalog topics): the first point. */
    dev: PointMedians;
    render: CostSeries;
    settingsValidation: CostSeries;
    linearityRule: string;
    runs: RenderRun[];
}

function mediansByTopics(runs: RenderRun[]): PointMedians[] {
    const counts = [...new Set(runs.map((r) => r.topics))].sort((a, b) => a - b);
    return counts.map((topics) => {
        const at = runs.filter((r) => r.topics === topics);
        const validation = at.map((r) => r.validationMs).filter((v): v is number => v !== undefined);
        const warm = at.map((r) => r.validationWarmMs).filter((v): v is number => v !== undefined);
        return {
            topics,
            runs: at.length,
            wallMs: median(at.map((r) => r.wallMs)),
            cpuMs: median(at.map((r) => r.cpuMs)),
            maxRssMiB: median(at.map((r) => r.maxRssMiB)),
            ...(validation.length > 0 ? { validationMs: median(validation) } : {}),
            ...(warm.length > 0 ? { validationWarmMs: median(warm) } : {}),
        };
    });
}

function fitOf(medians: PointMedians[], spreads: number[], of: string, y: (m: PointMedians) => number): FitSummary {
    const ys = medians.map(y);
    const fit = linearFit(medians.map((m) => m.topics), ys);
    const rounded = {
        ...fit,
        slope: round(fit.slope, 4),
        intercept: round(fit.intercept, 1),
        rSquared: round(fit.rSquared, 4),
        residualRms: round(fit.residualRms, 2),
        maxRelativeResidual: round(fit.maxRelativeResidual, 4),
        residuals: fit.residuals.map((r) => round(r, 2)),
    };
    return { of, ...rounded, spreads: spreads.map((s) => round(s, 2)), verdict: linearVerdict(fit, ys, spreads) };
}

/** Max - min of one figure over the runs at each topic count, in the medians' order. */
function spreadsOf(runs: RenderRun[], medians: PointMedians[], value: (r: RenderRun) => number | undefined): number[] {
    return medians.map((m) => {
        const values = runs.filter((r) => r.topics === m.topics).map(value).filter((v): v is number => v !== undefined);
        return values.length > 0 ? Math.max(...values) - Math.min(...values) : 0;
    });
}

function series(runs: RenderRun[], withValidation: boolean): CostSeries {
    const medians = mediansByTopics(runs);
    const fit = (of: string, value: (r: RenderRun | PointMedians) => number | undefined) =>
        fitOf(medians, spreadsOf(runs, medians, value), of, (m) => value(m) ?? 0);
    const fits = [
        fit("wall time, ms", (r) => r.wallMs),
        fit("CPU time (user + system), ms", (r) => r.cpuMs),
        fit("peak RSS, MiB", (r) => r.maxRssMiB),
        ...(withValidation ? [
            fit("loadSettings time, first call, ms", (r) => r.validationMs),
            fit("loadSettings time, warm (median of 5 calls), ms", (r) => r.validationWarmMs),
        ] : []),
    ];
    const segments = medians.slice(1).map((m, i) => ({
        from: medians[i].topics,
        to: m.topics,
        msPerTopic: round((m.wallMs - medians[i].wallMs) / (m.topics - medians[i].topics), 3),
    }));
    return {
        medians,
        fits,
        perTopic: {
            wallMs: fits[0].slope,
            cpuMs: fits[1].slope,
            maxRssMiB: fits[2].slope,
            ...(withValidation ? { validationMs: fits[3].slope, validationWarmMs: fits[4].slope } : {}),
        },
        segmentWallMsPerTopic: segments,
    };
}

/** The `render` section from raw runs of both kinds; at least two distinct topic counts are needed for a fit. */
export function renderSection(runs: RenderRun[], commands: { render: string; settings: string }): RenderSection {
    const renders = runs.filter((r) => r.kind === "render");
    const settings = runs.filter((r) => r.kind === "settings");
    const render = series(renders, false);
    return {
        command: commands.render,
        settingsCommand: commands.settings,
        topicCounts: render.medians.map((m) => m.topics),
        rounds: Math.max(0, ...runs.map((r) => r.round)),
        dev: render.medians[0],
        render,
        settingsValidation: series(settings, true),
        linearityRule: "least-squares line through the medians against the topic count; called linear when there are at least 3 topic counts and every median is within 10% of the line or within half the spread (max - min) of its own runs, i.e. the line explains the medians as well as the machine's noise allows",
        runs,
    };
}
