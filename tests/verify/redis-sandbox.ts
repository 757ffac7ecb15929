/**
 * A Redis Cluster from a stack's rendered pod specs, run by the pod runner (tests/harness/pod-runner.ts), for the
 * verify tests that need Redis pods at known addresses beside a kubectl stand-in: Debian's redis-server standing in
 * for the image, the exporter sidecar skipped, the bootstrap Job's pod run to completion.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PodSandbox } from "../harness/pod-runner";
import { renderIsolated } from "../helpers/render";
import { NAMES } from "../../components/redis/manifests";

export interface RedisSandbox {
    sandbox: PodSandbox;
    /** Pod names, `redis-cluster-<i>`. */
    pods: string[];
    startNodes(): Promise<void>;
    /** Runs the bootstrap Job's pod; throws with its log unless it exits 0 within `timeoutMs`. */
    bootstrap(timeoutMs?: number): Promise<void>;
    waitAllReady(timeoutMs?: number): Promise<void>;
    destroy(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startRedisSandbox(stack: "dev" | "prod", password: string): Promise<RedisSandbox> {
    const rendered = await renderIsolated(stack);
    const sts = rendered.manifests.find((m) => m.kind === "StatefulSet" && m.metadata.name === NAMES.statefulSet)!;
    const image: string = sts.spec.template.spec.containers.find((c: any) => c.name === "redis").image;
    const pods = Array.from({ length: sts.spec.replicas as number }, (_, i) => `${NAMES.statefulSet}-${i}`);
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `bss-verify-redis-${stack}-`));
    const sandbox = await PodSandbox.create({
        manifests: rendered.manifests,
        workDir,
        // The official image's ENV PATH and WORKDIR; its binaries are the host's redis-server and redis-cli.
        images: { [image]: { env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }, workingDir: "/data" } },
        secretValues: { [NAMES.secret]: { password } },
    });
    return {
        sandbox,
        pods,
        startNodes: async () => {
            await Promise.all(pods.map((_, i) => sandbox.startPod(NAMES.statefulSet, i)));
        },
        bootstrap: async (timeoutMs = 120_000) => {
            const pod = await sandbox.startPod(NAMES.bootstrapJob);
            try {
                const deadline = Date.now() + timeoutMs;
                while (sandbox.isRunning(pod, "bootstrap")) {
                    if (Date.now() > deadline) {
                        throw new Error(`bootstrap still running after ${timeoutMs} ms:\n${sandbox.logs(pod, "bootstrap")}`);
                    }
                    await sleep(200);
                }
                const exit = sandbox.events(pod).filter((e) => e.includes("container bootstrap exited")).pop() ?? "";
                if (!exit.includes("exited (0)")) {
                    throw new Error(`bootstrap failed (${exit}):\n${sandbox.logs(pod, "bootstrap")}`);
                }
            } finally {
                await sandbox.stopPod(pod, "SIGKILL");
            }
        },
        waitAllReady: async (timeoutMs = 60_000) => {
            for (const pod of pods) {
                await sandbox.waitReady(pod, "redis", timeoutMs);
            }
        },
        destroy: async () => {
            await sandbox.destroy();
            fs.rmSync(workDir, { recursive: true, force: true });
        },
    };
}
