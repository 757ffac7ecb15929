import { controllerCountProblems, deployedControllers, deployedMetadata, METADATA_OUTPUT, metadataSwitchProblems, QUORUM_VOTERS_OUTPUT, ZOOKEEPER_CONNECT_OUTPUT } from "../../components/kafka/metadata-guard";
import { stackFile } from "../helpers/render";
import { ProgramRun, runProgram } from "../topics/program";

describe("deployedMetadata", () => {
    it("reads the last mode, takes a ZooKeeper address as ZooKeeper mode (stacks from before the output), and nothing else", () => {
        expect(deployedMetadata({ [METADATA_OUTPUT]: "kraft", [ZOOKEEPER_CONNECT_OUTPUT]: null })).toBe("kraft");
        expect(deployedMetadata({ [METADATA_OUTPUT]: "zookeeper" })).toBe("zookeeper");
        expect(deployedMetadata({ [ZOOKEEPER_CONNECT_OUTPUT]: "zookeeper-0.zookeeper-headless.bss.svc.cluster.local:2181/bss-kafka" })).toBe("zookeeper");
        for (const outputs of [undefined, {}, { [METADATA_OUTPUT]: "etcd" }, { [ZOOKEEPER_CONNECT_OUTPUT]: null }]) {
            expect(deployedMetadata(outputs as Record<string, unknown>)).toBeUndefined();
        }
    });
});

describe("metadataSwitchProblems", () => {
    it("lets a first deployment and an unchanged mode through", () => {
        expect(metadataSwitchProblems(undefined, "kraft")).toEqual([]);
        expect(metadataSwitchProblems("zookeeper", "zookeeper")).toEqual([]);
        expect(metadataSwitchProblems("kraft", "kraft")).toEqual([]);
    });

    it("refuses either switch, naming the key, the value and the way forward", () => {
        const [toKraft] = metadataSwitchProblems("zookeeper", "kraft");
        expect(toKraft).toMatch(/^bss:kafka\.metadata cannot change from "zookeeper" to "kraft" on a deployed stack: .*deploy KRaft as a new stack.*, got "kraft"$/);
        const [back] = metadataSwitchProblems("kraft", "zookeeper");
        expect(back).toMatch(/^bss:kafka\.metadata cannot change from "kraft" to "zookeeper" on a deployed stack: .*Keep "kraft", got "zookeeper"$/);
    });
});

describe("controllerCountProblems", () => {
    it("counts the deployed voters, and refuses another count on a deployed KRaft stack only", () => {
        const voters = "1000@kafka-controller-0.kafka-controller-headless.bss.svc.cluster.local:9093,1001@kafka-controller-1.kafka-controller-headless.bss.svc.cluster.local:9093,1002@kafka-controller-2.kafka-controller-headless.bss.svc.cluster.local:9093";
        expect(deployedControllers({ [QUORUM_VOTERS_OUTPUT]: voters })).toBe(3);
        expect(deployedControllers({ [QUORUM_VOTERS_OUTPUT]: null })).toBeUndefined();
        expect(controllerCountProblems(3, 3)).toEqual([]);
        expect(controllerCountProblems(undefined, 3)).toEqual([]);
        expect(controllerCountProblems(3, undefined)).toEqual([]);
        expect(controllerCountProblems(3, 5)).toEqual([expect.stringMatching(/^bss:kafka\.controllers cannot change from 3 to 5 on a deployed KRaft stack: .*Keep 3, got 5$/)]);
    });
});

describe("the program, a deployed ZooKeeper stack asked for KRaft", () => {
    let run: ProgramRun;

    beforeAll(async () => {
        const config = stackFile("dev");
        const kafka = JSON.parse(config.values["bss:kafka"]);
        const values: Record<string, string> = { ...config.values, "bss:kafka": JSON.stringify({ ...kafka, metadata: "kraft" }) };
        delete values["bss:zookeeper"];
        run = await runProgram("dev", { ...config, values }, { [METADATA_OUTPUT]: "zookeeper", kafkaBrokers: 3 });
    }, 150_000);

    it("is refused with one RunError before the engine acts on anything but the stack's outputs", () => {
        expect(run.programError).toMatchObject({ isRunError: true });
        expect(run.programError!.message).toMatch(/^Invalid stack configuration \(1 problem\):\n {2}- bss:kafka\.metadata cannot change from "zookeeper" to "kraft"/);
        expect(run.acted.filter((a) => a.type !== "pulumi:pulumi:Stack").every((a) => a.type === "pulumi:pulumi:StackReference")).toBe(true);
        expect(run.acted.map((a) => a.name)).toContain("deployed-kafka-metadata");
        expect(run.registrations.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    });
});
