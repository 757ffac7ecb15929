/**
 * The real program under Pulumi's mocks: what the Redis component registers for the dev and prod stacks,
 * where the password goes, and what the stack exports.
 */
import { inlineConfig, outputValue, renderIsolated, RenderedStack, stackFile } from "../helpers/render";
import { SECRET_PLACEHOLDER, StackConfig } from "../../render/render";

const k8sObject = (r: RenderedStack, kind: string, name: string): any => r.resources.find((x) => x.type.startsWith("kubernetes:") && x.inputs.kind === kind && x.inputs.metadata?.name === name)?.inputs;
const ofKind = (r: RenderedStack, kind: string) => r.resources.filter((x) => x.type.startsWith("kubernetes:") && x.inputs.kind === kind).map((x) => x.inputs);

const OVERRIDE = "override-password-for-tests-0123";

describe.each([
    ["dev", 1, false],
    ["prod", 6, true],
])("stack %s", (stack, pods, hasBudget) => {
    let r: RenderedStack;
    beforeAll(async () => {
        r = await renderIsolated(stack, stackFile(stack));
    });

    it(`deploys ${pods} Redis node(s), the bootstrap Job and the Services of the DNS contract`, () => {
        expect(k8sObject(r, "StatefulSet", "redis-cluster").spec.replicas).toBe(pods);
        expect(k8sObject(r, "Job", "redis-cluster-bootstrap")).toBeDefined();
        for (const name of ["redis-cluster-headless", "redis-cluster"]) {
            expect(k8sObject(r, "Service", name).metadata.namespace).toBe("bss");
        }
    });

    it(stack === "dev" ? "exposes the single node on nodePort 30700 for kind's host port 7000" : "has no Service outside the cluster", () => {
        const external = r.resources.find((x) => x.type === "kubernetes:core/v1:Service" && x.inputs.metadata.name === "redis-cluster-external");
        if (stack === "dev") {
            expect(external!.inputs.spec).toMatchObject({ type: "NodePort", ports: [{ port: 7000, nodePort: 30700 }] });
        } else {
            expect(external).toBeUndefined();
        }
    });

    it("groups every Redis object under one bss:redis:RedisCluster component", () => {
        expect(r.resources.filter((x) => x.type === "bss:redis:RedisCluster").map((x) => x.name)).toEqual(["redis"]);
    });

    it(hasBudget ? "has a PodDisruptionBudget" : "has no PodDisruptionBudget", () => {
        expect(k8sObject(r, "PodDisruptionBudget", "redis-cluster") !== undefined).toBe(hasBudget);
    });

    it("generates the password with @pulumi/random (no characters that break redis.conf or CLI quoting) into the Secret", () => {
        const generated = r.resources.filter((x) => x.type === "random:index/randomPassword:RandomPassword" && x.name === "redis-password");
        expect(generated).toHaveLength(1);
        expect(generated[0].inputs).toMatchObject({ length: 32, special: false });
        expect(k8sObject(r, "Secret", "redis-cluster-auth").stringData).toEqual({ password: SECRET_PLACEHOLDER });
    });

    it("exports the password as a Pulumi secret and the in-cluster address in plain text", async () => {
        expect(await r.exports.redisPassword.isSecret).toBe(true);
        expect(await outputValue(r.exports.redisPassword)).toBe(SECRET_PLACEHOLDER);
        expect(await r.exports.redisAddress.isSecret).toBe(false);
        expect(await outputValue(r.exports.redisAddress)).toBe("redis-cluster.bss.svc.cluster.local:7000");
    });
});

describe("password override from secret config (bss:redisPassword)", () => {
    let r: RenderedStack;
    beforeAll(async () => {
        const dev = stackFile("dev");
        r = await renderIsolated("dev", { values: { ...dev.values, "bss:redisPassword": OVERRIDE }, secretKeys: [...dev.secretKeys, "bss:redisPassword"] });
    });

    it("is what the Secret holds and the stack exports, as a secret; nothing is generated", async () => {
        expect(k8sObject(r, "Secret", "redis-cluster-auth").stringData).toEqual({ password: OVERRIDE });
        expect(r.resources.some((x) => x.type.startsWith("random:") && x.name.startsWith("redis"))).toBe(false);
        expect(await r.exports.redisPassword.isSecret).toBe(true);
        expect(await outputValue(r.exports.redisPassword)).toBe(OVERRIDE);
    });

    it("appears in no other object: not in ConfigMaps, env values, annotations or the Job", () => {
        const elsewhere = r.resources.filter((x) => !(x.inputs.kind === "Secret" && x.inputs.metadata?.name === "redis-cluster-auth") && JSON.stringify(x.inputs).includes(OVERRIDE));
        expect(elsewhere.map((x) => `${x.type} ${x.name}`)).toEqual([]);
        expect(ofKind(r, "ConfigMap").filter((cm) => cm.metadata.name.startsWith("redis")).length).toBe(2);
    });
});

describe("invalid shapes", () => {
    it("stop the program with the validation error, naming key and value", async () => {
        const config: StackConfig = inlineConfig({ "bss:environment": "prod", "bss:redis": { masters: 2 } });
        await expect(renderIsolated("broken", config)).rejects.toThrow(/bss:redis\.masters must be 1 or at least 3 .*got 2/);
    });
});
