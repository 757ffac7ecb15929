/**
 * AKHQ itself cannot run here, but its JVM settings can: a real Java 17 (AKHQ 0.25's runtime) runs inside a
 * memory cgroup holding the rendered container limit, started the way the image's launcher (docker/app/akhq in
 * tchiotludo/akhq) starts AKHQ: `java $JAVA_OPTS <every line of $JVM_OPTS_FILE starting with "-">`, with
 * JAVA_OPTS taken from the rendered Deployment and the options file from the rendered ConfigMap.
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { object, renderIsolated } from "../helpers/render";

jest.setTimeout(120_000);

type Obj = Record<string, any>;

interface Launch {
    javaOpts: string;
    jvmOptionsFile: string;
    limitBytes: number;
}

const MI = 1024 * 1024;

function bytes(quantity: string): number {
    const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
    if (!m) {
        throw new Error(`unexpected memory quantity ${quantity}`);
    }
    return Number(m[1]) * (m[2] === "Gi" ? 1024 * MI : MI);
}

/** A memory cgroup with the pod's limit (cgroup v1 or v2), removed again in afterAll. */
class MemoryCgroup {
    readonly dir: string;
    private readonly v1: boolean;

    constructor(limitBytes: number) {
        this.v1 = fs.existsSync("/sys/fs/cgroup/memory/cgroup.procs");
        const root = this.v1 ? "/sys/fs/cgroup/memory" : "/sys/fs/cgroup";
        if (!this.v1) {
            fs.writeFileSync(path.join(root, "cgroup.subtree_control"), "+memory");
        }
        this.dir = path.join(root, `bss-akhq-test-${process.pid}`);
        fs.mkdirSync(this.dir);
        fs.writeFileSync(path.join(this.dir, this.v1 ? "memory.limit_in_bytes" : "memory.max"), String(limitBytes));
    }

    /** Highest memory use of the group so far. */
    peakBytes(): number {
        return Number(fs.readFileSync(path.join(this.dir, this.v1 ? "memory.max_usage_in_bytes" : "memory.peak"), "utf8").trim());
    }

    /** Kills what is left in the group (only JVMs this test started can be in it), then removes it. */
    remove(): void {
        if (!fs.existsSync(this.dir)) {
            return;
        }
        for (let attempt = 0; attempt < 50; attempt++) {
            const pids = fs.readFileSync(path.join(this.dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
            if (pids.length === 0) {
                fs.rmdirSync(this.dir);
                return;
            }
            for (const pid of pids) {
                try {
                    process.kill(pid, "SIGKILL");
                } catch {
                    // Already gone.
                }
            }
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
        }
        throw new Error(`processes remain in ${this.dir}`);
    }
}

interface Exit {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

/** The launcher's command line, run inside the cgroup; `tail` follows the launcher's options (main class and its args). */
function launchInCgroup(cgroup: MemoryCgroup, launch: Launch, tail: string[]): Promise<Exit> {
    const script = 'echo $$ > "$CGROUP/cgroup.procs" && exec java $JAVA_OPTS $(grep "^-" "$JVM_OPTS_FILE") "$@"';
    return new Promise((resolve) => {
        execFile("sh", ["-c", script, "launcher", ...tail], {
            env: { ...process.env, CGROUP: cgroup.dir, JAVA_OPTS: launch.javaOpts, JVM_OPTS_FILE: launch.jvmOptionsFile },
            timeout: 90_000,
            maxBuffer: 16 * MI,
        }, (err, stdout, stderr) => {
            const failure = err as (Error & { code?: number; signal?: NodeJS.Signals }) | null;
            resolve({ code: failure ? (typeof failure.code === "number" ? failure.code : null) : 0, signal: failure?.signal ?? null, stdout, stderr });
        });
    });
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "bss-akhq-jvm-"));
let cgroup: MemoryCgroup | undefined;
let launch: Launch;

const cleanUp = () => {
    cgroup?.remove();
    fs.rmSync(work, { recursive: true, force: true });
};
process.on("exit", cleanUp);

beforeAll(async () => {
    const rendered = await renderIsolated("prod");
    const container: Obj = object(rendered, "Deployment", "akhq").spec.template.spec.containers[0];
    const jvmOptionsFile = path.join(work, "jvm.options");
    fs.writeFileSync(jvmOptionsFile, object(rendered, "ConfigMap", "akhq-config").data["jvm.options"]);
    launch = {
        javaOpts: container.env.find((e: Obj) => e.name === "JAVA_OPTS").value,
        jvmOptionsFile,
        limitBytes: bytes(container.resources.limits.memory),
    };
    cgroup = new MemoryCgroup(launch.limitBytes);

    // Allocates and touches 1 MiB blocks until the heap is full.
    fs.writeFileSync(path.join(work, "FillHeap.java"), [
        "public class FillHeap {",
        "  public static void main(String[] args) {",
        "    java.util.List<byte[]> kept = new java.util.ArrayList<>();",
        "    while (true) { byte[] block = new byte[1 << 20]; for (int i = 0; i < block.length; i += 4096) block[i] = 1; kept.add(block); }",
        "  }",
        "}",
    ].join("\n"));
    execFileSync("javac", ["-d", work, path.join(work, "FillHeap.java")]);
});

afterAll(cleanUp);

it("gives the heap half of the container limit and caps direct buffers, leaving the rest to metaspace and threads", async () => {
    const result = await launchInCgroup(cgroup!, launch, ["-XX:+PrintFlagsFinal", "-version"]);
    expect(result.code).toBe(0);
    const flag = (name: string) => Number(new RegExp(`\\b${name}\\s+=\\s+(\\d+)`).exec(result.stdout)?.[1]);
    const heap = flag("MaxHeapSize");
    const direct = flag("MaxDirectMemorySize");
    expect(heap).toBe(launch.limitBytes / 2);
    expect(direct).toBe(64 * MI);
    // AKHQ's classpath (Micronaut, Kafka, Confluent serdes, AWS SDK) needs room outside the heap.
    expect(launch.limitBytes - heap - direct).toBeGreaterThanOrEqual(192 * MI);
    expect(heap).toBeGreaterThanOrEqual(192 * MI);
});

it("ends with a Java heap OOM, a clean exit Kubernetes restarts, before the cgroup limit kills it", async () => {
    const result = await launchInCgroup(cgroup!, launch, ["-cp", work, "FillHeap"]);
    const peak = cgroup!.peakBytes();
    console.log(`full heap under the ${launch.limitBytes / MI}Mi limit: peak ${(peak / MI).toFixed(0)}Mi of the cgroup`);
    expect(result.signal).toBeNull();
    // HotSpot prints this line on stdout.
    expect(result.stdout + result.stderr).toContain("Terminating due to java.lang.OutOfMemoryError: Java heap space");
    expect(result.code).toBe(3);
    // A full heap plus the JVM's own needs stays well inside the limit: the rest is AKHQ's non-heap room.
    expect(peak).toBeLessThan(launch.limitBytes * 0.75);
});
