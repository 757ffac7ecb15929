import { partitionDecreases, PARTITIONS_OUTPUT } from "../../components/topics/partition-guard";
import { loadSettings } from "../../settings";
import { inlineConfig, stackFile } from "../helpers/render";
import { ProgramRun, runProgram } from "./program";

const devTopics = () => loadSettings(stackFile("dev").values, "dev").topics;

describe("partitionDecreases", () => {
    it("sees no constraint on a first deploy or in an output of another shape", () => {
        for (const deployed of [undefined, null, "3", [3], 3]) {
            expect(partitionDecreases(deployed, devTopics())).toEqual([]);
        }
    });

    it("accepts equal and higher counts and topics the last deployment did not have", () => {
        expect(partitionDecreases({ "bss.events": 3, "bss.analytics.events": 2, "bss.gone": 50 }, devTopics())).toEqual([]);
    });

    it("names the key, the deployed count and the value it got, one problem per lowered topic", () => {
        expect(partitionDecreases({ "bss.events": 6, "bss.analytics.events": 12, "bss.audit.events": 3 }, devTopics())).toEqual([
            "bss:topics.bss.events.partitions cannot be lowered below the 6 partitions already deployed (Kafka cannot remove partitions; the provider would delete and recreate the topic, losing its records), got 3",
            "bss:topics.bss.analytics.events.partitions cannot be lowered below the 12 partitions already deployed (Kafka cannot remove partitions; the provider would delete and recreate the topic, losing its records), got 6",
        ]);
    });
});

describe("the program, against its own last deployment", () => {
    const otherThanTheStack = (run: ProgramRun) => run.acted.filter((r) => r.type !== "pulumi:pulumi:Stack");

    it("reads its own stack's outputs and exports what the topics report under the name it reads back", async () => {
        const run = await runProgram("dev", stackFile("dev"));
        const reference = run.acted.find((r) => r.type === "pulumi:pulumi:StackReference");
        expect(reference?.inputs.name).toBe("organization/bss/dev");
        expect(run.exports[PARTITIONS_OUTPUT]).toEqual(Object.fromEntries(devTopics().map((t) => [t.name, t.partitions])));
        expect(run.failures).toEqual([]);
        expect(run.acted.filter((r) => r.type === "kafka:index/topic:Topic")).toHaveLength(10);
    }, 150_000);

    describe("a lowered count", () => {
        let run: ProgramRun;
        const refusal = "Invalid stack configuration (1 problem):\n" +
            "  - bss:topics.bss.events.partitions cannot be lowered below the 6 partitions already deployed (Kafka cannot remove partitions; the provider would delete and recreate the topic, losing its records), got 3";

        beforeAll(async () => {
            run = await runProgram("dev", stackFile("dev"), { [PARTITIONS_OUTPUT]: { "bss.events": 6 } });
        }, 150_000);

        it("is refused before the engine acts on any resource but the StackReference read", () => {
            expect(otherThanTheStack(run).map((r) => r.type)).toEqual(["pulumi:pulumi:StackReference"]);
            expect(run.registrations.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
        });

        it("fails the run with one RunError naming the key, the deployed count and the value it got", () => {
            expect(run.programError).toMatchObject({ isRunError: true, message: refusal });
        });

        it("is printed as its message alone: the runtime's formatter has no stack to inspect", () => {
            expect(run.programError?.formatted).toBe(refusal);
        });

        it("is the only error the runtime sees: every rejection nobody handled is that same object, so it prints once", () => {
            expect(run.unhandled.length).toBeGreaterThan(0);
            expect(run.unhandled.filter((e) => !e.sameAsProgramError)).toEqual([]);
        });

        it("leaves no promise rejection handled late (no PromiseRejectionHandledWarning) and no other warning", () => {
            expect(run.rejectionHandled).toBe(0);
            expect(run.warnings).toEqual([]);
        });
    });

    it("lets a raise through: the provider adds partitions in place", async () => {
        const config = stackFile("dev");
        const raised = inlineConfig({ ...Object.fromEntries(Object.entries(config.values).map(([k, v]) => [k, tryJson(v)])), "bss:topics": { "bss.events": { partitions: 6 } } });
        const run = await runProgram("dev", raised, { [PARTITIONS_OUTPUT]: { "bss.events": 3 } });
        expect(run.failures).toEqual([]);
        const events = run.registrations.find((r) => r.type === "kafka:index/topic:Topic" && r.name === "bss.events");
        expect(events?.inputs.partitions).toBe(6);
        expect(run.exports[PARTITIONS_OUTPUT]).toMatchObject({ "bss.events": 6 });
    }, 150_000);
});

function tryJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}
