/**
 * The bench report: one JSON document (bench/report.json), its Markdown rendering (bench/report.md) and its charts,
 * plus the shape check CI runs on a written report. Pure.
 */
import { BudgetCheck, StackFootprint } from "./sections/footprint";
import { MachineSection } from "./sections/machine";
import { RenderSection } from "./sections/render-cost";
import { VersionsSection } from "./sections/versions";
import { scatterSvg, stackedBarsSvg } from "./svg";

export const REPORT_SCHEMA = "bss-bench/1";

export interface StackFootprintEntry extends StackFootprint {
    stackFile: string;
    environment: string;
    budget: BudgetCheck;
}

/** The issue's sections this bench does not measure yet, and what each will hold. */
export const NOT_MEASURED_YET: { section: string; what: string }[] = [
    { section: "timeToReady", what: "kubectl apply of the dev render until every pod is Ready and the topics exist; prod shape until Kafka, ZooKeeper and Redis are Ready" },
    { section: "kafka", what: "produce and consume throughput and latency, generated config against Kafka's stock server.properties" },
    { section: "redis", what: "redis-benchmark --cluster GET and SET against the prod-shape cluster and one stock node" },
    { section: "disruption", what: "produce stall during a rolling restart, recovery after a leader's SIGKILL, Redis write stall during a failover" },
];

export interface Report {
    schema: string;
    generatedAt: string;
    mode: "full" | "quick";
    command: string;
    machine: MachineSection;
    versions: VersionsSection;
    footprint: Record<string, StackFootprintEntry>;
    render: RenderSection;
    notMeasuredYet: { section: string; what: string }[];
}

export interface ReportInputs {
    generatedAt: Date;
    quick: boolean;
    machine: MachineSection;
    versions: VersionsSection;
    footprint: Record<string, StackFootprintEntry>;
    render: RenderSection;
}

export function buildReport(inputs: ReportInputs): Report {
    return {
        schema: REPORT_SCHEMA,
        generatedAt: inputs.generatedAt.toISOString(),
        mode: inputs.quick ? "quick" : "full",
        command: inputs.quick ? "npm run bench -- --quick" : "npm run bench",
        machine: inputs.machine,
        versions: inputs.versions,
        footprint: inputs.footprint,
        render: inputs.render,
        notMeasuredYet: NOT_MEASURED_YET.filter((s) => !(s.section in inputs)),
    };
}

/** Keys the issue names for each built section, and the per-stack footprint keys. */
export const REQUIRED_KEYS = {
    top: ["schema", "generatedAt", "mode", "command", "machine", "versions", "footprint", "render", "notMeasuredYet"],
    machine: ["cores", "memoryMiB", "cpuModel", "loadAverageAtStart", "note"],
    versions: ["node", "kafka", "redis", "kubernetes", "charts", "images"],
    footprintStack: ["cpuRequestsMillis", "memoryRequestsMiB", "cpuLimitsMillis", "memoryLimitsMiB", "nodesNeeded", "components", "jobs", "peak", "budget"],
    render: ["command", "settingsCommand", "topicCounts", "dev", "render", "settingsValidation", "runs"],
    series: ["medians", "fits", "perTopic"],
} as const;

function isObject(value: unknown): value is Record<string, any> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function missing(where: string, value: unknown, keys: readonly string[], problems: string[]): void {
    if (!isObject(value)) {
        problems.push(`${where} must be an object, got ${JSON.stringify(value)}`);
        return;
    }
    for (const key of keys) {
        if (!(key in value) || value[key] === null || value[key] === undefined) {
            problems.push(`${where}.${key} is missing`);
        }
    }
}

const finite = (v: unknown) => typeof v === "number" && Number.isFinite(v);

/**
 * Every way a parsed report.json departs from the shape: the keys above, numbers where figures belong, raw runs
 * beside the medians, and sections not built yet absent (listed in notMeasuredYet) rather than null or zero.
 */
export function reportProblems(report: unknown): string[] {
    const problems: string[] = [];
    missing("report", report, REQUIRED_KEYS.top, problems);
    if (!isObject(report)) {
        return problems;
    }
    if (report.schema !== REPORT_SCHEMA) {
        problems.push(`report.schema must be ${JSON.stringify(REPORT_SCHEMA)}, got ${JSON.stringify(report.schema)}`);
    }
    missing("machine", report.machine, REQUIRED_KEYS.machine, problems);
    if (isObject(report.machine) && !(finite(report.machine.cores) && report.machine.cores > 0)) {
        problems.push(`machine.cores must be a positive number, got ${JSON.stringify(report.machine.cores)}`);
    }
    missing("versions", report.versions, REQUIRED_KEYS.versions, problems);
    const stacks = isObject(report.footprint) ? Object.keys(report.footprint) : [];
    if (stacks.length === 0) {
        problems.push("footprint must hold at least one stack");
    }
    for (const stack of stacks) {
        const entry = report.footprint[stack];
        missing(`footprint.${stack}`, entry, REQUIRED_KEYS.footprintStack, problems);
        for (const key of ["cpuRequestsMillis", "memoryRequestsMiB", "cpuLimitsMillis", "memoryLimitsMiB", "nodesNeeded"]) {
            if (isObject(entry) && key in entry && !(finite(entry[key]) && entry[key] > 0)) {
                problems.push(`footprint.${stack}.${key} must be a positive number, got ${JSON.stringify(entry[key])}`);
            }
        }
        if (isObject(entry) && !(Array.isArray(entry.components) && entry.components.length > 0)) {
            problems.push(`footprint.${stack}.components must list the stack's components`);
        }
        if (isObject(entry) && isObject(entry.budget) && typeof entry.budget.fits !== "boolean") {
            problems.push(`footprint.${stack}.budget.fits must be true or false`);
        }
    }
    missing("render", report.render, REQUIRED_KEYS.render, problems);
    if (isObject(report.render)) {
        for (const name of ["render", "settingsValidation"]) {
            missing(`render.${name}`, report.render[name], REQUIRED_KEYS.series, problems);
            const medians = report.render[name]?.medians;
            if (!Array.isArray(medians) || medians.length < 2 || medians.some((m: any) => !finite(m?.topics) || !finite(m?.wallMs) || !finite(m?.maxRssMiB))) {
                problems.push(`render.${name}.medians must hold at least two topic counts, each with topics, wallMs and maxRssMiB`);
            }
        }
        const runs = report.render.runs;
        if (!Array.isArray(runs) || !["render", "settings"].every((kind) => runs.some((r: any) => r?.kind === kind && finite(r?.wallMs)))) {
            problems.push("render.runs must keep the raw runs of both kinds (render and settings)");
        }
    }
    const listed = Array.isArray(report.notMeasuredYet) ? report.notMeasuredYet.map((s: any) => s?.section) : [];
    for (const { section } of NOT_MEASURED_YET) {
        if (section in report && listed.includes(section)) {
            problems.push(`${section} is listed as not measured yet but is present`);
        }
        if (section in report && !isObject(report[section])) {
            problems.push(`${section} must be absent until it is measured, got ${JSON.stringify(report[section])}`);
        }
        if (!(section in report) && !listed.includes(section)) {
            problems.push(`${section} is absent and not listed in notMeasuredYet`);
        }
    }
    return problems;
}

/** Chart files by name: one footprint chart per stack, the render's cost and the settings validation's. */
export function reportCharts(report: Report): Record<string, string> {
    const charts: Record<string, string> = {};
    for (const [stack, entry] of Object.entries(report.footprint)) {
        const bar = (label: string, unit: string, value: (c: StackFootprint["components"][number]) => number, budget: number) => ({
            label,
            unit,
            segments: entry.components.map((c) => ({ label: c.component, value: value(c) })),
            budget: { label: "budget", value: budget },
        });
        charts[`footprint-${stack}.svg`] = stackedBarsSvg(`${stack}: requests of long-running pods by component; dashed: budget`, [
            bar("CPU requests", "m", (c) => c.cpuRequestsMillis, entry.budget.nodes * entry.budget.nodeCpuMillis),
            bar("memory requests", "MiB", (c) => c.memoryRequestsMiB, entry.budget.nodes * entry.budget.nodeMemoryMiB),
        ]);
    }
    const render = report.render;
    const points = (medians: RenderSection["render"]["medians"], y: (m: RenderSection["render"]["medians"][number]) => number) => medians.map((m) => ({ x: m.topics, y: y(m) }));
    const validationFit = (prefix: string) => render.settingsValidation.fits.find((f) => f.of.startsWith(prefix));
    charts["render-cost.svg"] = scatterSvg("npm run render against declared topics (medians; dashed: least-squares line)", "topics declared", "milliseconds", [
        { label: "wall time", points: points(render.render.medians, (m) => m.wallMs), fit: render.render.fits[0] },
        { label: "CPU time (user + system)", points: points(render.render.medians, (m) => m.cpuMs), fit: render.render.fits[1] },
    ]);
    charts["settings-cost.svg"] = scatterSvg("loadSettings alone against declared topics (medians; dashed: least-squares line)", "topics declared", "milliseconds", [
        { label: "first call (cold)", points: points(render.settingsValidation.medians, (m) => m.validationMs ?? 0), fit: validationFit("loadSettings time, first call") },
        { label: "warm (median of 5 calls)", points: points(render.settingsValidation.medians, (m) => m.validationWarmMs ?? 0), fit: validationFit("loadSettings time, warm") },
    ]);
    return charts;
}

function table(header: string[], rows: (string | number)[][]): string {
    return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

const mib = (v: number) => `${Math.round(v)} MiB`;
const milli = (v: number) => `${v}m`;

function footprintMarkdown(stack: string, entry: StackFootprintEntry): string {
    const lines: string[] = [];
    lines.push(`### ${stack} (\`${entry.stackFile}\`, environment ${entry.environment})`, "");
    lines.push(`![${stack} footprint](footprint-${stack}.svg)`, "");
    lines.push(table(["component", "pods", "CPU requests", "memory requests", "CPU limits", "memory limits"], [
        ...entry.components.map((c) => [c.component, c.pods, milli(c.cpuRequestsMillis), mib(c.memoryRequestsMiB), milli(c.cpuLimitsMillis), mib(c.memoryLimitsMiB)]),
        ["**long-running total**", entry.components.reduce((n, c) => n + c.pods, 0), `**${milli(entry.cpuRequestsMillis)}**`, `**${mib(entry.memoryRequestsMiB)}**`, milli(entry.cpuLimitsMillis), mib(entry.memoryLimitsMiB)],
        ...entry.jobs.map((c) => [`${c.component} (Job)`, c.pods, milli(c.cpuRequestsMillis), mib(c.memoryRequestsMiB), milli(c.cpuLimitsMillis), mib(c.memoryLimitsMiB)]),
        ["with every Job at once", "", milli(entry.peak.cpuRequestsMillis), mib(entry.peak.memoryRequestsMiB), milli(entry.peak.cpuLimitsMillis), mib(entry.peak.memoryLimitsMiB)],
    ]), "");
    lines.push(`Nodes needed by the placement rules: **${entry.nodesNeeded}**${entry.nodesNeededBy.length > 0 ? `, set by ${entry.nodesNeededBy.map((n) => `${n.workload} (${n.rule})`).join("; ")}` : " (no workload has a hard rule)"}.`, "");
    lines.push(`Budget: ${entry.budget.name}: **${entry.budget.fits ? "fits" : "does not fit"}**${entry.budget.problems.length > 0 ? ` (${entry.budget.problems.join("; ")})` : ""}.`);
    if (entry.budget.nodes > 1) {
        lines.push(` One placement that respects the rules, largest pods first on the least loaded allowed node: ${entry.budget.nodeLoads.map((l, i) => `node ${i + 1} ${milli(l.cpuRequestsMillis)} / ${mib(l.memoryRequestsMiB)}`).join(", ")}.`);
    }
    if (entry.unmodelledCharts.length > 0) {
        lines.push("", `Not counted (charts whose pods are not derived from values here): ${entry.unmodelledCharts.join(", ")}.`);
    }
    return lines.join("\n");
}

function seriesRows(series: RenderSection["render"], validation: boolean): (string | number)[][] {
    const ms = (v: number | undefined) => (v === undefined ? "" : `${Math.round(v * 100) / 100} ms`);
    return series.medians.map((m) => [m.topics, m.runs, `${m.wallMs} ms`, `${m.cpuMs} ms`, `${m.maxRssMiB} MiB`, ...(validation ? [ms(m.validationMs), ms(m.validationWarmMs)] : [])]);
}

function fitsMarkdown(series: RenderSection["render"]): string {
    return series.fits.map((f) => `- ${f.of}: ${f.intercept} + ${f.slope} × topics; R² ${f.rSquared}, residual RMS ${f.residualRms}, largest residual ${Math.round(f.maxRelativeResidual * 1000) / 10}% of its point; residuals ${f.residuals.join(", ")} against run spreads ${f.spreads.join(", ")}: **${f.verdict}**`).join("\n");
}

export function reportMarkdown(report: Report): string {
    const m = report.machine;
    const v = report.versions;
    const r = report.render;
    const out: string[] = [];
    out.push("# Benchmarks", "");
    out.push(`Generated ${report.generatedAt} by \`${report.command}\` (${report.mode} mode). Raw runs and every figure: [report.json](report.json).`, "");
    out.push(`**Machine**: ${m.cores} cores (${m.cpuModel}), ${Math.round(m.memoryMiB / 1024)} GiB memory, ${m.platform}; load average ${m.loadAverageAtStart.join(" / ")} at the start. ${m.note}`, "");
    out.push(`**Versions**: Node ${v.node}, Kafka ${v.kafka}, Redis ${v.redis}, Kubernetes ${v.kubernetes} (the test cluster), charts ${Object.entries(v.charts).map(([c, ver]) => `${c} ${ver}`).join(", ")}. Images: ${v.images.map((i) => `\`${i}\``).join(", ")}.`, "");
    out.push("## Footprint", "");
    out.push("From `npm run render` of each stack file: requests and limits of every container, Kong's from its chart values (`replicaCount` pods of the `proxy` container and the `clear-stale-pid` init container, both given `resources`). A pod counts with Kubernetes' effective request per resource, max(largest init container, sum of its containers and sidecars): init containers run one at a time before the rest start, so they only count when larger than the pod's running containers. Long-running pods (StatefulSets, Deployments) make the totals; Jobs run to completion and are listed apart, and the budget check adds them all at once, as at deploy time. Memory in MiB, CPU in millicores.", "");
    out.push("Nodes needed: a required pod anti-affinity on `kubernetes.io/hostname` puts one pod per node (as many nodes as replicas); a hostname topology spread with `DoNotSchedule` only bounds the node count when it sets `minDomains` (below that many nodes each holds at most `maxSkew`), otherwise it spreads the pods evenly over whatever nodes exist; preferences bound nothing. The stack needs the largest of these bounds.", "");
    for (const [stack, entry] of Object.entries(report.footprint)) {
        out.push(footprintMarkdown(stack, entry), "");
    }
    out.push("## Render cost", "");
    out.push(`\`${r.command}\`, in a child process measured by GNU time (wall time, user + system CPU time, peak RSS of the largest process), for the dev stack (${r.dev.topics} topics) and copies of it declaring ${r.topicCounts.slice(1).join(", ")} topics; ${r.rounds} round${r.rounds === 1 ? "" : "s"}, each measuring every count once; medians below. Settings validation alone: \`${r.settingsCommand}\` (loadSettings timed inside the process, first call; peak RSS is the whole process).`, "");
    out.push("![render cost](render-cost.svg)", "");
    out.push(table(["topics", "runs", "wall time", "CPU time", "peak RSS"], seriesRows(r.render, false)), "");
    out.push("Wall time includes waiting for a core on the shared machine (see the spread of the raw runs); CPU time (user + system) is the steadier figure for what a topic costs.", "");
    out.push(`Per topic: **${r.render.perTopic.wallMs} ms** wall, **${r.render.perTopic.cpuMs} ms CPU**, ${r.render.perTopic.maxRssMiB} MiB peak RSS. Between neighbouring counts: ${r.render.segmentWallMsPerTopic.map((s) => `${s.from}→${s.to} ${s.msPerTopic} ms/topic`).join(", ")}.`, "");
    out.push(fitsMarkdown(r.render), "");
    out.push("Settings validation alone:", "");
    out.push("![settings validation cost](settings-cost.svg)", "");
    out.push(table(["topics", "runs", "process wall time", "process CPU time", "process peak RSS", "loadSettings, first call", "loadSettings, warm"], seriesRows(r.settingsValidation, true)), "");
    out.push(`Per topic: **${r.settingsValidation.perTopic.validationMs} ms** in loadSettings's first call, ${r.settingsValidation.perTopic.validationWarmMs} ms warm.`, "");
    out.push(fitsMarkdown(r.settingsValidation), "");
    out.push(`Linearity: ${r.linearityRule}.`, "");
    out.push("## Not measured yet", "");
    out.push(...report.notMeasuredYet.map((s) => `- \`${s.section}\`: ${s.what}`), "");
    return out.join("\n");
}
