import {
    BROKER_REPLICAS_OUTPUT, brokerRemovalProblems, BROKERS_OUTPUT, deployedBrokers, DRAIN_ANNOTATION, drainedBrokers, removedBrokers,
} from "../../components/kafka/rebalance/broker-guard";
import { stackFile } from "../helpers/render";
import { ProgramRun, runProgram } from "../topics/program";

const fiveBrokers = deployedBrokers({ [BROKERS_OUTPUT]: 5, [BROKER_REPLICAS_OUTPUT]: { 0: 20, 1: 20, 2: 20, 3: 20, 4: 19 } });
const refusal = "bss:kafka.brokers cannot go from 5 to 3 while brokers 3,4 may hold replicas (replicas of the declared topics by broker if spread evenly: 3: 20, 4: 19; "
    + "a broker alone in its zone holds more, and auto-created and internal topics come on top), and the StatefulSet carries no drain of them since its last change: "
    + "run `npm run kafka:drain -- --stack dev --brokers 3,4` first (it moves every replica off them, throttled, and marks the StatefulSet), then deploy again, got 3";

describe("brokerRemovalProblems", () => {
    it("sees no constraint on a first deploy, an equal or higher count, or outputs of another shape", () => {
        for (const outputs of [undefined, {}, { [BROKERS_OUTPUT]: "5" }, { [BROKERS_OUTPUT]: 2.5 }]) {
            expect(brokerRemovalProblems(deployedBrokers(outputs as Record<string, unknown>), 3, "dev", [])).toEqual([]);
        }
        expect(brokerRemovalProblems(fiveBrokers, 5, "dev", [])).toEqual([]);
        expect(brokerRemovalProblems(fiveBrokers, 7, "dev", [])).toEqual([]);
    });

    it("refuses a lower count while the highest brokers are not drained, naming the key, the value and the drain command", () => {
        expect(removedBrokers(fiveBrokers, 3)).toEqual([3, 4]);
        expect(brokerRemovalProblems(fiveBrokers, 3, "dev", [])).toEqual([refusal]);
    });

    it("lets the lower count through once the drain vouches for every removed broker, and only then", () => {
        expect(brokerRemovalProblems(fiveBrokers, 3, "dev", [3, 4])).toEqual([]);
        expect(brokerRemovalProblems(fiveBrokers, 3, "dev", [4])[0]).toMatch(/^bss:kafka\.brokers cannot go from 5 to 3 while brokers 3 may hold replicas .*--brokers 3,4`/);
        expect(brokerRemovalProblems(fiveBrokers, 4, "dev", [4])).toEqual([]);
    });

    it("says so when the last deployment recorded no layout", () => {
        expect(brokerRemovalProblems(deployedBrokers({ [BROKERS_OUTPUT]: 4 }), 3, "prod", [])[0]).toMatch(/by broker if spread evenly: 3: unknown;.*--stack prod --brokers 3`/);
    });
});

describe("drainedBrokers (the drain's mark on the StatefulSet)", () => {
    const mark = (record: unknown) => ({ [DRAIN_ANNOTATION]: JSON.stringify(record) });

    it("vouches for the brokers only at the generation the drain saw", () => {
        expect(drainedBrokers(mark({ brokers: [3, 4], generation: 7 }), 7)).toEqual([3, 4]);
        expect(drainedBrokers(mark({ brokers: [3, 4], generation: 7 }), 8)).toEqual([]);
    });

    it("vouches for nothing without a mark or with one it cannot read", () => {
        expect(drainedBrokers(undefined, 1)).toEqual([]);
        expect(drainedBrokers({ other: "x" }, 1)).toEqual([]);
        expect(drainedBrokers({ [DRAIN_ANNOTATION]: "3,4" }, 1)).toEqual([]);
        expect(drainedBrokers(mark({ brokers: "3,4", generation: 1 }), 1)).toEqual([]);
    });
});

describe("the program, against a last deployment of five brokers", () => {
    let run: ProgramRun;
    const otherThanTheStack = (r: ProgramRun) => r.acted.filter((a) => a.type !== "pulumi:pulumi:Stack");

    beforeAll(async () => {
        run = await runProgram("dev", stackFile("dev"), { [BROKERS_OUTPUT]: 5, [BROKER_REPLICAS_OUTPUT]: { 0: 20, 1: 20, 2: 20, 3: 20, 4: 19 } });
    }, 150_000);

    it("is refused before the engine acts on anything but its reads: the stack's outputs and the live StatefulSet", () => {
        expect(otherThanTheStack(run).map((r) => `${r.type} ${r.name}`)).toEqual([
            "pulumi:pulumi:StackReference deployed-topic-partitions",
            "pulumi:pulumi:StackReference deployed-kafka-brokers",
            "kubernetes:apps/v1:StatefulSet deployed-kafka-statefulset",
        ]);
        expect(run.registrations.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    });

    it("fails the run with one RunError naming the key, the value and the drain command", () => {
        expect(run.programError).toMatchObject({ isRunError: true, message: `Invalid stack configuration (1 problem):\n  - ${refusal}` });
        expect(run.programError?.formatted).toBe(`Invalid stack configuration (1 problem):\n  - ${refusal}`);
    });

    it("exports the broker count and the declared replicas per broker spread evenly on an ordinary run", async () => {
        const ordinary = await runProgram("dev", stackFile("dev"), { [BROKERS_OUTPUT]: 3 });
        expect(ordinary.failures).toEqual([]);
        expect(ordinary.exports[BROKERS_OUTPUT]).toBe(3);
        expect(ordinary.exports[BROKER_REPLICAS_OUTPUT]).toEqual({ 0: 33, 1: 33, 2: 33 });
        expect(ordinary.acted.filter((r) => r.type === "kubernetes:batch/v1:Job").map((r) => r.inputs.metadata.name)).toContain("kafka-rebalance-3");
        expect(ordinary.acted.filter((r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.name === "deployed-kafka-statefulset")).toEqual([]);
    }, 150_000);
});
