import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "../helpers/render";
import type { ComponentRecord } from "./topics-component-child";

/**
 * KafkaTopics under Pulumi's mocks with a gate opened or failed by hand (topics-component-child.ts): the provider,
 * and so every topic, must not reach the engine before the brokers are registered and the gate has opened, and
 * `partitions` must hold what the topic resources report.
 */
let record: ComponentRecord;

beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bss-topics-component-"));
    const file = path.join(dir, "record.json");
    try {
        await new Promise<void>((resolve, reject) => {
            execFile(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "topics-component-child.ts"), file], { cwd: ROOT, timeout: 120_000 }, (err, _stdout, stderr) => {
                if (err || !fs.existsSync(file)) {
                    reject(new Error(`component run failed (${err?.message ?? "no record"}):\n${stderr.slice(-4000)}`));
                } else {
                    resolve();
                }
            });
        });
        record = JSON.parse(fs.readFileSync(file, "utf8")) as ComponentRecord;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}, 150_000);

describe("the external gate in front of the provider", () => {
    it("is asked once, after the brokers are registered, with every bootstrap address", () => {
        expect(record.gated.calls).toEqual([{ servers: ["localhost:9092", "localhost:9093"], brokersRegistered: true }]);
    });

    it("holds the provider and every topic while it is closed", () => {
        expect(record.gated.beforeOpen).toEqual(["bss:topics:KafkaTopics::a-topics", "test:index:Brokers::a-brokers"]);
    });

    it("lets them through once open: the provider gets the addresses, every topic is created and reports its count", () => {
        expect(JSON.parse(record.gated.providerInputs.bootstrapServers as string)).toEqual(["localhost:9092", "localhost:9093"]);
        expect(record.gated.topics).toEqual(["a.one", "a.two"]);
        expect(record.gated.partitions).toEqual({ "a.one": 3, "a.two": 6 });
    });

    it("when it gives up, fails the provider and the topics with its one error: only the component itself was registered", () => {
        expect(record.refused.registered).toEqual(["bss:topics:KafkaTopics::b-topics"]);
        expect(record.refused.unhandledCount).toBeGreaterThan(0);
        expect(record.refused.allTheGateError).toBe(true);
        expect(record.refused.message).toContain("Kafka's EXTERNAL listeners did not all answer (scenario)");
        // Nothing reported and nothing deployed before: no count the next run would hold against the stack.
        expect(record.refused.partitions).toEqual({});
    });
});

describe("partitions: what the topic resources report", () => {
    it("a topic that failed keeps the last deployment's count, one never deployed exports none, a removed one is gone", () => {
        expect(record.failedTopics.partitions).toEqual({ "c.created": 9, "c.raised-then-failed": 6 });
    });
});
