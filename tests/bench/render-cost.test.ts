import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { declaredTopics, GENERATED_TOPIC_PREFIX, parseTimeOutput, RenderRun, renderSection, withTopics } from "../../bench/sections/render-cost";
import { readStackConfigFile } from "../../render/render";
import { loadSettings } from "../../settings";
import { ROOT } from "../helpers/render";

const devText = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");

function settingsOf(text: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-test-"));
    try {
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), text);
        const config = readStackConfigFile(path.join(dir, "Pulumi.dev.yaml"));
        return loadSettings(config.values, "dev", new Set(config.secretKeys));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("withTopics", () => {
    it("makes a valid dev stack that declares exactly the asked number of topics", () => {
        const text = withTopics(devText, 100);
        expect(declaredTopics(text)).toBe(100);
        const settings = settingsOf(text);
        expect(settings.topics).toHaveLength(100);
        expect(settings.topics.filter((t) => t.name.startsWith(GENERATED_TOPIC_PREFIX))).toHaveLength(100 - declaredTopics(devText));
        expect(settings.kafka.brokers).toBe(3);
    });

    it("keeps the stack's other settings and its own topic overrides", () => {
        const base = yaml.dump({ config: { "bss:environment": "dev", "bss:topics": { "bss.events": { partitions: 12 }, "team.orders": { partitions: 2 } } } });
        const text = withTopics(base, 20);
        const config = (yaml.load(text) as any).config;
        expect(config["bss:environment"]).toBe("dev");
        expect(config["bss:topics"]["bss.events"]).toEqual({ partitions: 12 });
        expect(config["bss:topics"]["team.orders"]).toEqual({ partitions: 2 });
        // 10 catalog topics + team.orders + 9 generated
        expect(declaredTopics(text)).toBe(20);
    });

    it("refuses fewer topics than the stack already declares", () => {
        expect(() => withTopics(devText, 5)).toThrow(/already declares 10 topics/);
    });
});

describe("parseTimeOutput", () => {
    it("reads GNU time's elapsed, user, system and max RSS fields", () => {
        expect(parseTimeOutput("8.18 3.89 0.34 212272\n")).toEqual({ wallMs: 8180, cpuMs: 4230, maxRssMiB: 207.3 });
    });

    it("reads the last line when GNU time reports a non-zero exit first", () => {
        expect(parseTimeOutput("Command exited with non-zero status 1\n1.00 0.50 0.10 1024\n")).toEqual({ wallMs: 1000, cpuMs: 600, maxRssMiB: 1 });
    });

    it("refuses anything else", () => {
        expect(() => parseTimeOutput("")).toThrow(/unexpected GNU time output/);
        expect(() => parseTimeOutput("0:08.18 3.89")).toThrow(/unexpected GNU time output/);
    });
});

describe("renderSection", () => {
    const run = (kind: RenderRun["kind"], topics: number, round: number, wallMs: number, extra: Partial<RenderRun> = {}): RenderRun =>
        ({ kind, topics, round, wallMs, cpuMs: wallMs / 2, maxRssMiB: 100 + topics / 10, ...extra });
    // Render: 1000 + 10 ms per topic, with one slow outlier per count that the median drops.
    const runs: RenderRun[] = [10, 100, 1000].flatMap((topics) => [
        run("render", topics, 1, 1000 + 10 * topics),
        run("render", topics, 2, 1000 + 10 * topics),
        run("render", topics, 3, 50000),
        run("settings", topics, 1, 500, { validationMs: 1 + topics / 100, validationWarmMs: topics / 1000 }),
        run("settings", topics, 2, 500, { validationMs: 1 + topics / 100, validationWarmMs: topics / 1000 }),
    ]);
    const section = renderSection(runs, { render: "npm run render", settings: "probe" });

    it("takes medians per topic count, so one slow run per count does not move them", () => {
        expect(section.render.medians.map((m) => [m.topics, m.runs, m.wallMs])).toEqual([[10, 3, 1100], [100, 3, 2000], [1000, 3, 11000]]);
        expect(section.dev.topics).toBe(10);
        expect(section.rounds).toBe(3);
    });

    it("fits a line through the medians: per-topic cost is its slope, and exact growth is called linear", () => {
        expect(section.render.perTopic.wallMs).toBeCloseTo(10, 6);
        expect(section.render.fits[0]).toMatchObject({ verdict: "linear", rSquared: 1 });
        expect(section.render.segmentWallMsPerTopic).toEqual([{ from: 10, to: 100, msPerTopic: 10 }, { from: 100, to: 1000, msPerTopic: 10 }]);
    });

    it("fits the validation alone from the settings runs, cold and warm", () => {
        expect(section.settingsValidation.perTopic.validationMs).toBeCloseTo(0.01, 6);
        expect(section.settingsValidation.perTopic.validationWarmMs).toBeCloseTo(0.001, 6);
        expect(section.settingsValidation.medians.map((m) => m.runs)).toEqual([2, 2, 2]);
    });

    it("keeps every raw run", () => {
        expect(section.runs).toHaveLength(runs.length);
    });
});
