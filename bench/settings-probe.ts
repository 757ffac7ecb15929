/**
 * ts-node bench/settings-probe.ts STACK FILE
 * Reads a stack file and runs the settings validation once, nothing else: the bench times this process to
 * separate the validation's cost from the render's. Prints one JSON line: the first loadSettings call's time (cold,
 * as the render pays it) and RSS growth, the median of WARM_CALLS further calls, and the topic count it produced.
 */
import { readStackConfigFile } from "../render/render";
import { loadSettings } from "../settings";

/** Further calls after the first: their median is the validation's cost once the code is compiled and warm. */
const WARM_CALLS = 5;

function main(): void {
    const [stack, file] = process.argv.slice(2);
    if (!stack || !file) {
        throw new Error("usage: ts-node bench/settings-probe.ts STACK FILE");
    }
    const config = readStackConfigFile(file);
    const rssBefore = process.memoryUsage().rss;
    const started = process.hrtime.bigint();
    const settings = loadSettings(config.values, stack, new Set(config.secretKeys));
    const elapsed = process.hrtime.bigint() - started;
    const rssAfter = process.memoryUsage().rss;
    const warm: number[] = [];
    for (let i = 0; i < WARM_CALLS; i++) {
        const start = process.hrtime.bigint();
        loadSettings(config.values, stack, new Set(config.secretKeys));
        warm.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    warm.sort((a, b) => a - b);
    console.log(JSON.stringify({
        validationMs: Number(elapsed) / 1e6,
        validationRssGrowthMiB: (rssAfter - rssBefore) / (1 << 20),
        validationWarmMs: warm[Math.floor(WARM_CALLS / 2)],
        topics: settings.topics.length,
    }));
}

main();
