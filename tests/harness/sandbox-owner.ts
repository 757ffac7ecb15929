/**
 * A process that owns a sandbox with one running pod and then dies without calling destroy(): the crash and
 * signal cases of the self-test. Prints one JSON line {hostIp, podPid} once the pod runs, then, by mode:
 *   exit: process.exit(0) (the exit safety net must clean up)
 *   wait: waits to be signalled (SIGTERM: the signal handler must clean up; SIGKILL: the next create() must)
 * Usage: ts-node sandbox-owner.ts WORKDIR exit|wait
 */
import { execFileSync } from "child_process";
import { PodSandbox } from "./pod-runner";

const IMAGE = "sandbox.local/host-tools:1";

async function main(workDir: string, mode: string): Promise<void> {
    const sandbox = await PodSandbox.create({
        workDir,
        images: { [IMAGE]: { env: { PATH: "/usr/bin:/bin" } } },
        manifests: [{
            apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "sleeper", namespace: "crash" },
            spec: {
                serviceName: "sleeper", selector: { matchLabels: { app: "sleeper" } },
                template: {
                    metadata: { labels: { app: "sleeper" } },
                    spec: { securityContext: { runAsUser: 1000, runAsNonRoot: true }, containers: [{ name: "main", image: IMAGE, command: ["sleep", "600"] }] },
                },
            },
        }],
    });
    const pod = await sandbox.startPod("sleeper", 0);
    await sandbox.waitReady(pod, "main", 10_000);
    const podPid = Number(execFileSync("ip", ["netns", "pids", `bsssb${sandbox.hostIp.split(".")[2]}-${pod}`], { encoding: "utf8" }).trim().split("\n")[0]);
    process.stdout.write(JSON.stringify({ hostIp: sandbox.hostIp, podPid }) + "\n");
    if (mode === "exit") {
        process.exit(0);
    }
    setInterval(() => undefined, 60_000);
}

main(process.argv[2], process.argv[3]).catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
});
