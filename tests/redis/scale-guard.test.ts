import {
    DRAIN_ANNOTATION, MASTERS_OUTPUT, nodeRemovalProblems, removedOrdinals, REPLICAS_OUTPUT,
} from "../../components/redis/scale-guard";
import { drainedIds } from "../../components/shared/scale-in-guard";
import { stackFile } from "../helpers/render";
import { ProgramRun, runProgram } from "../topics/program";

const fourMasters = { [MASTERS_OUTPUT]: 4, [REPLICAS_OUTPUT]: 1 };
const refusal = "bss:redis.masters cannot go from 4 to 3 while the pods the StatefulSet would delete (redis-cluster-6, redis-cluster-7) may own slots or serve as replicas, "
    + "and the StatefulSet carries no drain of them since its last change: run `npm run redis:drain -- --stack prod --masters 3 --replicas-per-master 1` first "
    + "(it moves their slots to the remaining masters, keeps a replica on another node for each, removes them from the cluster and marks the StatefulSet), "
    + "then deploy again, got masters 3, replicasPerMaster 1";

describe("nodeRemovalProblems", () => {
    it("sees no constraint on a first deploy, an equal or larger shape, or outputs of another shape", () => {
        for (const outputs of [undefined, {}, { [MASTERS_OUTPUT]: 4 }, { [MASTERS_OUTPUT]: "4", [REPLICAS_OUTPUT]: 1 }]) {
            expect(nodeRemovalProblems(outputs as Record<string, unknown>, { masters: 3, replicasPerMaster: 1 }, "prod", [])).toEqual([]);
        }
        expect(nodeRemovalProblems(fourMasters, { masters: 4, replicasPerMaster: 1 }, "prod", [])).toEqual([]);
        expect(nodeRemovalProblems(fourMasters, { masters: 5, replicasPerMaster: 1 }, "prod", [])).toEqual([]);
        expect(nodeRemovalProblems(fourMasters, { masters: 3, replicasPerMaster: 2 }, "prod", [])).toEqual([]);
    });

    it("refuses fewer pods while the highest ordinals are not drained, naming the key, the values and the drain command", () => {
        expect(removedOrdinals(fourMasters, { masters: 3, replicasPerMaster: 1 })).toEqual([6, 7]);
        expect(nodeRemovalProblems(fourMasters, { masters: 3, replicasPerMaster: 1 }, "prod", [])).toEqual([refusal]);
    });

    it("names replicasPerMaster when that is what goes down, and both when both do", () => {
        const [fewerReplicas] = nodeRemovalProblems({ [MASTERS_OUTPUT]: 3, [REPLICAS_OUTPUT]: 2 }, { masters: 3, replicasPerMaster: 1 }, "prod", []);
        expect(fewerReplicas).toMatch(/^bss:redis\.replicasPerMaster cannot go from 2 to 1 while .*\(redis-cluster-6, redis-cluster-7, redis-cluster-8\).*--masters 3 --replicas-per-master 1`/);
        const [both] = nodeRemovalProblems({ [MASTERS_OUTPUT]: 5, [REPLICAS_OUTPUT]: 2 }, { masters: 3, replicasPerMaster: 1 }, "prod", []);
        expect(both).toMatch(/^bss:redis\.masters cannot go from 5 to 3 and bss:redis\.replicasPerMaster cannot go from 2 to 1 while/);
    });

    it("lets the lower shape through once the drain vouches for every removed ordinal, and only then", () => {
        expect(nodeRemovalProblems(fourMasters, { masters: 3, replicasPerMaster: 1 }, "prod", [6, 7])).toEqual([]);
        expect(nodeRemovalProblems(fourMasters, { masters: 3, replicasPerMaster: 1 }, "prod", [7])[0]).toMatch(/\(redis-cluster-6\)/);
    });
});

describe("the drain's mark on the StatefulSet", () => {
    const mark = (record: unknown) => ({ [DRAIN_ANNOTATION]: JSON.stringify(record) });

    it("vouches for the ordinals only at the generation the drain saw", () => {
        expect(drainedIds(mark({ ordinals: [6, 7], generation: 4 }), 4, DRAIN_ANNOTATION, "ordinals")).toEqual([6, 7]);
        expect(drainedIds(mark({ ordinals: [6, 7], generation: 4 }), 5, DRAIN_ANNOTATION, "ordinals")).toEqual([]);
    });

    it("vouches for nothing without a mark, with one it cannot read, or with Kafka's field", () => {
        expect(drainedIds(undefined, 1, DRAIN_ANNOTATION, "ordinals")).toEqual([]);
        expect(drainedIds({ [DRAIN_ANNOTATION]: "{" }, 1, DRAIN_ANNOTATION, "ordinals")).toEqual([]);
        expect(drainedIds(mark({ brokers: [6], generation: 1 }), 1, DRAIN_ANNOTATION, "ordinals")).toEqual([]);
    });
});

describe("the program, against a last deployment of 4 masters x 1 replica", () => {
    let run: ProgramRun;
    const otherThanTheStack = (r: ProgramRun) => r.acted.filter((a) => a.type !== "pulumi:pulumi:Stack");

    beforeAll(async () => {
        run = await runProgram("prod", stackFile("prod"), fourMasters);
    }, 150_000);

    it("is refused before the engine acts on anything but its reads: the stack's outputs and the live StatefulSet", () => {
        expect(otherThanTheStack(run).map((r) => `${r.type} ${r.name}`)).toEqual([
            "pulumi:pulumi:StackReference deployed-topic-partitions",
            "pulumi:pulumi:StackReference deployed-kafka-brokers",
            "pulumi:pulumi:StackReference deployed-redis-shape",
            "kubernetes:apps/v1:StatefulSet deployed-redis-statefulset",
        ]);
        expect(run.registrations.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    });

    it("fails the run with one RunError naming the key, the value and the drain command", () => {
        expect(run.programError).toMatchObject({ isRunError: true, message: `Invalid stack configuration (1 problem):\n  - ${refusal}` });
    });

    it("exports the shape on an ordinary run, without reading the StatefulSet", async () => {
        const ordinary = await runProgram("dev", stackFile("dev"), { [MASTERS_OUTPUT]: 1, [REPLICAS_OUTPUT]: 0 });
        expect(ordinary.failures).toEqual([]);
        expect([ordinary.exports[MASTERS_OUTPUT], ordinary.exports[REPLICAS_OUTPUT]]).toEqual([1, 0]);
        expect(ordinary.acted.filter((r) => r.name === "deployed-redis-statefulset")).toEqual([]);
    }, 150_000);
});
